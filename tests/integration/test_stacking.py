#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Two patches of one function stack: the newer wins, the lower one cannot
be reverted from under it, and reverting in order falls back step by step.
A cumulative patch applied with --replace supersedes both in one flip;
reverting it goes straight back to the original, and the superseded
objects are gone. A two-function patch under a one-function patch shows as
applied and stacked (not "partial"), and applying it again keeps the one
on top."""
import sys, os
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "../lib"))
from hptest import *


def state(env, v):
    st = env.hp_json("status", "--pid", v.pid)["patches"]
    return {p["id"]: p["processes"][0]["state"] for p in st}


FIX_TWO = """
#include <hotpatch/patch.h>
extern int check_len(int n);
extern int apply_scale(int x);
HOTPATCH_DESCRIPTION("two functions");
HOTPATCH_REPLACE(check_len, check_len_two);
HOTPATCH_REPLACE(apply_scale, apply_scale_two);
int check_len_two(int n)
{
	return n > 64 ? -1 : n;
}
int apply_scale_two(int x)
{
	return x + 1000;
}
"""


def processes(env, v):
    st = env.hp_json("status", "--pid", v.pid)["patches"]
    return {p["id"]: p["processes"][0] for p in st}


def stacked_status(env, v):
    """fix (two functions) then fix2 (one of them) on top."""
    exe = fixture("victim")
    fix = env.build(exe, FIX_TWO, name="fix")
    fix2 = env.build(exe, check_len_patch(32, -2, "fix2"), name="fix2")
    idf, idf2 = env.bundle_id(fix), env.bundle_id(fix2)
    env.hp("apply", fix, "--pid", v.pid, "--insecure")
    env.hp("apply", fix2, "--pid", v.pid, "--insecure")
    expect_eq((v.call(50), v.ask("scale 5")), (-2, "1005"), "fix2 on check_len, fix on apply_scale")
    p = processes(env, v)
    expect_eq(p[idf]["state"], "applied", "fix under fix2")
    expect_eq((p[idf]["state"], p[idf]["active"], p[idf]["stacked"], p[idf].get("under")),
              ("applied", 1, 1, idf2), "fix: applied, one function under fix2")
    expect_eq((p[idf2]["state"], p[idf2]["stacked"]), ("applied", 0), "fix2: applied")
    text = env.hp("status", "--pid", v.pid).stdout
    expect("partial" not in text and "interrupted" not in text, f"nothing partial:\n{text}")
    expect(f"1 under patch {idf2}" in text, f"the stacking is said:\n{text}")
    # The old advice was "run apply again": it wrote fix's jump over fix2's.
    r = env.hp_json("apply", fix, "--pid", v.pid, "--insecure")["processes"][0]
    expect_eq(r["result"], "already", "applying the lower patch again")
    expect_eq(v.call(50), -2, "fix2 is still on top")
    expect_eq(set(processes(env, v)), {idf, idf2}, "both still listed")
    # What the text says to do works: revert fix2, then fix.
    env.hp("revert", idf2, "--pid", v.pid)
    expect_eq((v.call(50), v.call(100), v.ask("scale 5")), (50, -1, "1005"), "back to fix")
    env.hp("revert", idf, "--pid", v.pid)
    expect_eq((v.call(100), v.ask("scale 5")), (100, "16"), "back to the original")
    expect_eq(v.maps_objects(), [], "nothing mapped")


def test(env):
    v = env.victim("victim", "--hot", 4)
    exe = fixture("victim")
    a = env.build(exe, check_len_patch(64, -1, "a"), name="a")
    b = env.build(exe, check_len_patch(32, -2, "b"), name="b")
    c = env.build(exe, check_len_patch(10, -3, "c"), name="c")
    ida, idb, idc = (env.bundle_id(x) for x in (a, b, c))

    env.hp("apply", a, "--pid", v.pid, "--insecure")
    env.hp("apply", b, "--pid", v.pid, "--insecure")
    expect_eq((v.call(50), v.call(100)), (-2, -2), "B on top of A")
    r = env.hp_json("revert", ida, "--pid", v.pid, check=False)["processes"][0]
    expect_eq(r["result"], "failed", "reverting A under B is refused")
    expect(f"patch {idb} is applied on top of {ida}" in r["reason"], r["reason"])
    expect_eq(v.call(50), -2, "refused revert changed nothing")
    env.hp("revert", idb, "--pid", v.pid)
    expect_eq((v.call(50), v.call(100)), (50, -1), "back to A")
    env.hp("revert", ida, "--pid", v.pid)
    expect_eq(v.call(100), 100, "back to the original")
    expect_eq(v.maps_objects(), [], "nothing mapped")

    env.hp("apply", a, "--pid", v.pid, "--insecure")
    env.hp("apply", b, "--pid", v.pid, "--insecure")
    r = env.hp_json("apply", c, "--pid", v.pid, "--insecure", "--replace")["processes"][0]
    expect_eq(r["result"], "patched", "--replace")
    expect_eq((v.call(20), v.call(5)), (-3, 5), "C replaced A and B")
    expect_eq(state(env, v), {idc: "applied"}, "only C is applied; A and B are unmapped")
    env.hp("revert", idc, "--pid", v.pid)
    expect_eq(v.call(100), 100, "reverting C goes back to the original")
    expect_eq(v.maps_objects(), [], "nothing mapped")
    stacked_status(env, v)


main(test)
