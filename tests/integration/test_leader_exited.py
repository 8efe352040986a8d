#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""A process whose main thread has exited while its other threads run (the
leader is a zombie; /proc/PID no longer shows its memory, maps or files) is
patched, shown and reverted like any other, through a live thread's /proc
entry; it is not "exited during the apply"."""
import sys, os
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "../lib"))
from hptest import *


def objects(v):
    """Patch objects mapped, read through a live thread (the leader shows none)."""
    for tid in os.listdir(f"/proc/{v.pid}/task"):
        if tid != str(v.pid):
            with open(f"/proc/{v.pid}/task/{tid}/maps") as f:
                return [l.split()[-1] for l in f if l.rstrip().endswith(".hpo")]
    raise Failure("no live thread")


def test(env):
    v = env.victim("victim", "--leader-exits", "--hot", 2, "--blockers")
    expect_eq(v.state(), "Z", "the main thread has exited")
    bundle = env.build(fixture("victim"), FIX_CHECK_LEN)
    bid = env.bundle_id(bundle)
    r = env.hp_json("apply", bundle, "--pid", v.pid, "--insecure", check=False)
    expect_eq(r["processes"][0]["result"], "patched", f"apply: {r['processes'][0]}")
    expect_eq(v.call(100), -1, "patched")
    expect_eq(len(set(objects(v))), 1, "the patch object is mapped")
    st = env.hp_json("status", "--pid", v.pid)["patches"]
    expect_eq([(p["id"], p["processes"][0]["state"]) for p in st], [(bid, "applied")], "status")
    env.hp("revert", bid, "--pid", v.pid)
    expect_eq(v.call(100), 100, "reverted")
    expect_eq(objects(v), [], "nothing mapped")
    expect_eq(v.stats()["eintr"], "0", "no EINTR in the blocked threads")


main(test)
