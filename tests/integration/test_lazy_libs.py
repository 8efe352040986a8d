#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""libcapstone, libdw and libzstd are loaded when first needed, not at every
start of the tool: each library costs the dynamic linker its mapping and its
symbol lookups on every exec (README, performance). `hotpatch --version`, an
apply and a revert of a process idle outside the patched function load none
of them; `build` loads capstone (its jump-window check); an apply whose
safety check must unwind a thread's stack loads libdw, and the unwind finds
the frame. (The
builder's DWARF reader and the file updates' zstd run through the same
forwarders in the corpus and commit tests.) The dynamic linker's own trace (LD_DEBUG=libs) says
which libraries a run initialised."""
import re
import sys, os
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "../lib"))
from hptest import *

TRACE = {"LD_DEBUG": "libs"}
LAZY = ("libcapstone", "libdw", "libzstd")


def loaded(r):
    return {lib for lib in LAZY if re.search(rf"calling init: \S*/{lib}\.so", r.stderr)}


def test(env):
    v = env.victim("victim")
    r = env.hp("--version", env_vars=TRACE)
    expect("calling init" in r.stderr, "the dynamic linker's trace is there to read")
    expect_eq(loaded(r), set(), "hotpatch --version loads no lazy library")

    src = env.write("fix.c", FIX_CHECK_LEN)
    out = os.path.join(env.dir, "fix.hpb")
    r = env.hp("build", "--target", fixture("victim"), "-o", out, src, env_vars=TRACE)
    expect("libcapstone" in loaded(r), "hotpatch build loads libcapstone")

    r = env.hp("apply", out, "--pid", v.pid, "--insecure", env_vars=TRACE)
    expect_eq(loaded(r), set(), "hotpatch apply loads no lazy library")
    expect_eq(v.call(100), -1, "and the patch it built works")
    r = env.hp("revert", out, "--pid", v.pid, env_vars=TRACE)
    expect_eq(loaded(r), set(), "hotpatch revert loads no lazy library")
    expect_eq(v.call(100), 100, "reverted")

    # A patch of main(), which is on the main thread's stack for good: the
    # stack scan hits, only an unwind (libdw) finds the frame, and the apply
    # gives up after its timeout, the target untouched.
    src = env.write("main.c", MAIN_PATCH)
    out = os.path.join(env.dir, "main.hpb")
    env.hp("build", "--target", fixture("victim"), "-o", out, src)
    r = env.hp("apply", out, "--pid", v.pid, "--insecure", "--timeout", "0.2", "--json",
               env_vars=TRACE, check=False)
    expect("main" in r.stdout and "its stack" in r.stdout, r.stdout)
    expect("libdw" in loaded(r), "the unwind loaded libdw")
    expect_eq(v.maps_objects(), [], "nothing left mapped")
    expect_eq(v.call(100), 100, "the target answers as before")


MAIN_PATCH = """
#include <hotpatch/patch.h>
extern int main(int argc, char **argv);
HOTPATCH_REPLACE(main, main_fixed);
int main_fixed(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return 0;
}
"""


main(test)
