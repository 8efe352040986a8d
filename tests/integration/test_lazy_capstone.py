#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""libcapstone is loaded by `hotpatch build`, which disassembles, and by
nothing else: its relocations cost about 1 ms of every start of the tool
(README, performance). The dynamic linker's own trace (LD_DEBUG=libs) says
which libraries a run initialised."""
import sys, os
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "../lib"))
from hptest import *

TRACE = {"LD_DEBUG": "libs"}


def loads_capstone(r):
    return "libcapstone" in r.stderr


def test(env):
    v = env.victim("victim")
    r = env.hp("--version", env_vars=TRACE)
    expect("calling init" in r.stderr, "the dynamic linker's trace is there to read")
    expect(not loads_capstone(r), "hotpatch --version does not load libcapstone")

    src = env.write("fix.c", FIX_CHECK_LEN)
    out = os.path.join(env.dir, "fix.hpb")
    r = env.hp("build", "--target", fixture("victim"), "-o", out, src, env_vars=TRACE)
    expect(loads_capstone(r), "hotpatch build loads libcapstone (its jump-window check)")

    r = env.hp("apply", out, "--pid", v.pid, "--insecure", env_vars=TRACE)
    expect(not loads_capstone(r), "hotpatch apply does not load libcapstone")
    expect_eq(v.call(100), -1, "and the patch it built works")
    r = env.hp("revert", out, "--pid", v.pid, env_vars=TRACE)
    expect(not loads_capstone(r), "hotpatch revert does not load libcapstone")
    expect_eq(v.call(100), 100, "reverted")


main(test)
