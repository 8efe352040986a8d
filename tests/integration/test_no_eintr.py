#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Threads blocked in read(), nanosleep() and a futex wait, plus threads in
pause(), must never see a spurious EINTR from being stopped, hijacked for
system calls, and released, over many apply/revert cycles."""
import sys, os
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "../lib"))
from hptest import *


def test(env):
    v = env.victim("victim", "--blockers", "--sleepers", 4)
    bundle = env.build(fixture("victim"), FIX_CHECK_LEN)
    bid = env.bundle_id(bundle)
    for cycle in range(20):
        env.hp("apply", bundle, "--pid", v.pid, "--insecure")
        expect_eq(v.call(100), -1, f"cycle {cycle}: patched")
        env.hp("revert", bid, "--pid", v.pid)
        expect_eq(v.call(100), 100, f"cycle {cycle}: reverted")
    expect_eq(v.stats()["eintr"], "0", "EINTR seen by blocked threads")


main(test)
