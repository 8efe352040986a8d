#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""64 threads call the patched function in a tight loop while it is applied
and reverted: every cycle lands, the loop never stops, nothing crashes."""
import sys, os
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "../lib"))
from hptest import *


def test(env):
    v = env.victim("victim", "--hot", 64)
    bundle = env.build(fixture("victim"), FIX_CHECK_LEN)
    bid = env.bundle_id(bundle)
    for cycle in range(5):
        before = int(v.stats()["hot"])
        r = env.hp_json("apply", bundle, "--pid", v.pid, "--insecure")["processes"][0]
        expect_eq(r["result"], "patched", f"cycle {cycle}: apply")
        expect_eq(v.call(100), -1, f"cycle {cycle}: patched result")
        r = env.hp_json("revert", bid, "--pid", v.pid)["processes"][0]
        expect_eq(r["result"], "reverted", f"cycle {cycle}: revert")
        expect_eq(v.call(100), 100, f"cycle {cycle}: reverted result")
        wait_for(lambda: int(v.stats()["hot"]) > before, what="hot threads making progress")
    expect(v.alive(), "target alive")


main(test)
