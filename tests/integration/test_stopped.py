#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""A SIGSTOPped target is patched and stays stopped; after SIGCONT it runs
the fixed code. Same for revert."""
import signal
import sys, os
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "../lib"))
from hptest import *


def test(env):
    v = env.victim("victim", "--sleepers", 2)
    bundle = env.build(fixture("victim"), FIX_CHECK_LEN)
    bid = env.bundle_id(bundle)
    os.kill(v.pid, signal.SIGSTOP)
    wait_for(lambda: v.state() == "T", what="target stopped")
    r = env.hp_json("apply", bundle, "--pid", v.pid, "--insecure")["processes"][0]
    expect_eq(r["result"], "patched", "apply to a stopped process")
    expect_eq(v.state(), "T", "still stopped after apply")
    os.kill(v.pid, signal.SIGCONT)
    expect_eq(v.call(100), -1, "fixed after SIGCONT")
    os.kill(v.pid, signal.SIGSTOP)
    wait_for(lambda: v.state() == "T", what="target stopped again")
    expect_eq(env.hp_json("revert", bid, "--pid", v.pid)["processes"][0]["result"], "reverted",
              "revert of a stopped process")
    expect_eq(v.state(), "T", "still stopped after revert")
    os.kill(v.pid, signal.SIGCONT)
    expect_eq(v.call(100), 100, "original after SIGCONT")


main(test)
