#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""PIE, non-PIE and -fcf-protection builds: each is patched and reverted;
with CET the endbr64 at the entry stays in place."""
import sys, os
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "../lib"))
from hptest import *


def cycle(env, binary, pie):
    v = env.victim(binary)
    exe = fixture(binary)
    original = function_bytes(v.pid, exe, "check_len", pie=pie)
    bundle = env.build(exe, FIX_CHECK_LEN, name=f"fix-{binary}")
    env.hp("apply", bundle, "--pid", v.pid, "--insecure")
    expect_eq(v.call(100), -1, f"{binary}: patched")
    patched = function_bytes(v.pid, exe, "check_len", pie=pie)
    if original[:4] == b"\xf3\x0f\x1e\xfa":
        expect_eq(patched[:4], original[:4], f"{binary}: endbr64 kept")
        expect_eq(patched[4:5], b"\xe9", f"{binary}: jump after endbr64")
    else:
        expect_eq(patched[:1], b"\xe9", f"{binary}: jump at entry")
    env.hp("revert", env.bundle_id(bundle), "--pid", v.pid)
    expect_eq(function_bytes(v.pid, exe, "check_len", pie=pie), original, f"{binary}: restored")
    expect_eq(v.call(100), 100, f"{binary}: original")
    return original


def test(env):
    cycle(env, "victim", True)
    cycle(env, "victim-nopie", False)
    cet = cycle(env, "victim-cet", True)
    expect_eq(cet[:4], b"\xf3\x0f\x1e\xfa", "the CET build starts with endbr64")


main(test)
