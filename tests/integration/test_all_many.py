#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""--all over 100 processes: every one patched, in parallel, then every one
reverted; processes of other programs are left alone."""
import time
import sys, os
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "../lib"))
from hptest import *


def test(env):
    exe = unique_copy(env, "victim")
    victims = [env.victim(exe) for _ in range(100)]
    bystander = env.victim("victim")
    bundle = env.build(exe, FIX_CHECK_LEN)
    t0 = time.time()
    r = env.hp_json("apply", bundle, "--all", "--insecure")
    elapsed = time.time() - t0
    print(f"apply --all over {len(victims)} targets: {elapsed:.2f} s "
          f"({r['summary']['elapsed_ms']} ms inside hotpatch)")
    expect_eq(r["summary"]["patched"], 100, "patched")
    expect_eq(r["summary"]["failed"], 0, "failed")
    patched = {p["pid"] for p in r["processes"] if p["result"] == "patched"}
    expect_eq(patched, {v.pid for v in victims}, "exactly the victims")
    for v in victims:
        expect_eq(v.call(100), -1, f"pid {v.pid} patched")
    expect_eq(bystander.call(100), 100, "another build of the program is left alone")
    r = env.hp_json("revert", env.bundle_id(bundle), "--all")
    expect_eq(r["summary"]["reverted"], 100, "reverted")
    for v in victims:
        expect_eq(v.call(100), 100, f"pid {v.pid} reverted")


main(test)
