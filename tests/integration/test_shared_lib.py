#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""A function in a shared library used by two processes: --all patches
both (and only them), the patch text is one shared file mapping, and
--all reverts both."""
import sys, os
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "../lib"))
from hptest import *

LIB_FIX = """
#include <hotpatch/patch.h>
extern int lib_check(int n);
extern int lib_limit;  /* static in the library */
HOTPATCH_REPLACE(lib_check, lib_check_fixed);
int lib_check_fixed(int n)
{
	return n < lib_limit / 10 ? n : -lib_limit;
}
"""


def hpo_inode(pid):
    with open(f"/proc/{pid}/maps") as f:
        for line in f:
            if line.rstrip().endswith(".hpo") and " r-xp " in line:
                return line.split()[3:5]
    raise Failure(f"no patch text mapped in {pid}")


def test(env):
    libdir = os.path.join(env.dir, "lib")
    os.makedirs(libdir)
    lib = unique_copy(env, "libvictim.so", "lib/libvictim.so")
    a = env.victim("victim-lib", lib_dir=libdir)
    b = env.victim("victim-lib", lib_dir=libdir)
    bystander = env.victim("victim-lib")
    expect_eq(a.ask("lib 500"), "500", "unpatched lib_check")
    bundle = env.build(lib, LIB_FIX)
    r = env.hp_json("apply", bundle, "--all", "--insecure")
    patched = sorted(p["pid"] for p in r["processes"] if p["result"] == "patched")
    expect_eq(patched, sorted([a.pid, b.pid]), "--all patched exactly the library's users")
    expect_eq(r["summary"]["failed"], 0, "no failures")
    for v in (a, b):
        expect_eq(v.ask("lib 500"), "-1000", f"pid {v.pid} patched")
        expect_eq(v.ask("lib 50"), "50", f"pid {v.pid} small values")
    expect_eq(hpo_inode(a.pid), hpo_inode(b.pid), "both map the same patch file (shared text)")
    expect_eq(bystander.maps_objects(), [], "a process with another build of it is untouched")
    expect_eq(bystander.ask("lib 500"), "500", "... and runs the original")
    r = env.hp_json("revert", env.bundle_id(bundle), "--all")
    expect_eq(r["summary"]["reverted"], 2, "--all reverted both")
    for v in (a, b):
        expect_eq(v.ask("lib 500"), "500", f"pid {v.pid} reverted")


main(test)
