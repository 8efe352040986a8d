#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Static functions and data: a patch replaces a static function, calls
other static functions and reads and writes static data by name; a static
name present in two files must be disambiguated, and then is."""
import sys, os
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "../lib"))
from hptest import *

AMBIGUOUS = """
#include <hotpatch/patch.h>
extern int factor;
extern int scale_helper(int x);
HOTPATCH_REPLACE_STATIC(scale_helper, "victim.c", scale_helper_fixed);
int scale_helper_fixed(int x) { return x * factor * 2; }
"""

STATICS = """
#include <hotpatch/patch.h>
extern int factor;                       /* static in victim.c and other.c */
HOTPATCH_LOCAL(factor, "victim.c");
extern int other_factor;
HOTPATCH_ALIAS(other_factor, "factor", "other.c");
extern int scale_helper(int x);          /* static in victim.c */
extern int apply_scale(int x);
extern int other_scale(int x);

HOTPATCH_REPLACE_STATIC(scale_helper, "victim.c", scale_helper_fixed);
int scale_helper_fixed(int x) { return x * factor * 2; }

HOTPATCH_REPLACE(other_scale, other_scale_fixed);
int other_scale_fixed(int x)
{
	other_factor = 7;                /* writes the target's static data */
	return scale_helper(x) + x * other_factor;  /* calls a static function */
}
"""


def test(env):
    v = env.victim("victim")
    exe = fixture("victim")
    expect_eq(v.ask("scale 5"), "16", "original apply_scale(5) = 5*3+1")
    expect_eq(v.ask("other 2"), "200", "original other_scale(2) = 2*100")

    r = env.hp("build", "--target", exe, "-o", os.path.join(env.dir, "amb.hpb"),
               env.write("amb.c", AMBIGUOUS), check=False)
    expect_eq(r.returncode, 2, "an ambiguous static is refused")
    expect("victim.c" in r.stderr and "other.c" in r.stderr and "HOTPATCH_LOCAL" in r.stderr,
           f"the refusal names both files and the fix: {r.stderr}")

    bundle = env.build(exe, STATICS, name="statics")
    env.hp("apply", bundle, "--pid", v.pid, "--insecure")
    expect_eq(v.ask("scale 5"), "31", "patched static: 5*3*2+1")
    # scale_helper is now the patched one (reached through its jump): 2*3*2 + 2*7
    expect_eq(v.ask("other 2"), "26", "patched other_scale using statics of both files")
    env.hp("revert", env.bundle_id(bundle), "--pid", v.pid)
    expect_eq(v.ask("scale 5"), "16", "reverted apply_scale")
    # other.c's factor keeps the value the patch wrote: data is not rolled back.
    expect_eq(v.ask("other 2"), "14", "reverted other_scale reads the written static")


main(test)
