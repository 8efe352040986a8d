#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""A real-time signal every ~20 us during 100 apply/revert cycles: zero
failures, the right state after each cycle, and not one signal lost or
duplicated (real-time signals queue, so the counts must match exactly)."""
import subprocess
import sys, os
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "../lib"))
from hptest import *


def test(env):
    v = env.victim("victim", "--blockers")
    bundle = env.build(fixture("victim"), FIX_CHECK_LEN)
    bid = env.bundle_id(bundle)
    storm = subprocess.Popen([fixture("sigstorm"), str(v.pid), "20"], stdout=subprocess.PIPE,
                             text=True)
    try:
        for cycle in range(100):
            r = env.hp("apply", bundle, "--pid", v.pid, "--insecure", check=False)
            expect_eq(r.returncode, 0, f"cycle {cycle}: apply exit ({r.stdout}{r.stderr})")
            expect_eq(v.call(100), -1, f"cycle {cycle}: patched")
            r = env.hp("revert", bid, "--pid", v.pid, check=False)
            expect_eq(r.returncode, 0, f"cycle {cycle}: revert exit ({r.stdout}{r.stderr})")
            expect_eq(v.call(100), 100, f"cycle {cycle}: reverted")
    finally:
        storm.terminate()
        sent = int(storm.communicate()[0])
    expect(sent > 1000, f"the storm sent signals ({sent})")
    wait_for(lambda: int(v.stats()["sigs"]) >= sent, what=f"all {sent} signals delivered")
    expect_eq(int(v.stats()["sigs"]), sent, "signals received == signals sent")
    expect_eq(v.stats()["eintr"], "0", "EINTR")


main(test)
