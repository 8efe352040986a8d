#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""hotpatchd patches a program started after the patch was enabled even
when the patch calls into a shared library (libc here): the exec event can
arrive before the dynamic linker has mapped that library, and the daemon
must wait for it rather than give the process up as failed. (Found by the
Debian package test: the demo's fix calls memcpy.)"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "../lib"))
from daemon import Daemon, probe_result, spawn_probe  # noqa: E402
from hptest import (expect, expect_eq, main, signed_bundle, trust_key,  # noqa: E402
                    unique_copy, wait_for)

# getpid() is an ordinary libc function: the compiler cannot inline it, so
# the patch object imports it.
PATCH_WITH_LIBC = """
#include <hotpatch/patch.h>
#include <unistd.h>
extern int probe_check(int n);
HOTPATCH_DESCRIPTION("probe_check: refuse lengths above 64, asking libc first");
HOTPATCH_REPLACE(probe_check, probe_check_fixed);
int probe_check_fixed(int n)
{
	return getpid() > 0 && n > 64 ? -1 : n;
}
"""


def test(env):
    key = trust_key(env)
    probe = unique_copy(env, "probe")
    bundle = signed_bundle(env, probe, PATCH_WITH_LIBC, key)
    info = env.hp_json("info", bundle)
    expect("getpid" in str(info), f"the patch imports getpid from libc: {info}")
    pid_id = env.bundle_id(bundle)
    d = Daemon(env)
    env.hp("enable", bundle)
    wait_for(lambda: d.patch_view(pid_id) is not None, what="the daemon to load the patch")
    for i in range(10):
        p = spawn_probe(probe, ["--wait-ms", 5000])
        code, rep, err = probe_result(p)
        expect_eq(code, 0, f"new probe {i} patched (report {rep}, stderr {err!r}); "
                           f"daemon log:\n{d.log()}")
    d.stop()


if __name__ == "__main__":
    main(test)
