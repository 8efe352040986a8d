#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Two patches of one function stack: the newer wins, the lower one cannot
be reverted from under it, and reverting in order falls back step by step.
A cumulative patch applied with --replace supersedes both in one flip;
reverting it goes straight back to the original, and the superseded
objects are gone."""
import sys, os
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "../lib"))
from hptest import *


def state(env, v):
    st = env.hp_json("status", "--pid", v.pid)["patches"]
    return {p["id"]: p["processes"][0]["state"] for p in st}


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


main(test)
