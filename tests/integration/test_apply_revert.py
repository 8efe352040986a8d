#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""A single-threaded target: apply makes it return the fixed result, status
reports it, revert brings the exact original bytes back and unmaps the
patch object."""
import sys, os
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "../lib"))
from hptest import *


def test(env):
    exe = fixture("victim")
    v = env.victim("victim")
    original = function_bytes(v.pid, exe, "check_len")
    # A freshly built binary's page cache is dirty until written back, and
    # smaps counts that as Private_Dirty: write it back first.
    fd = os.open(exe, os.O_RDONLY)
    os.fsync(fd)
    os.close(fd)
    dirty_before = code_private_dirty_kb(v.pid, exe)
    expect_eq(original, function_file_bytes(exe, "check_len"), "check_len before apply")
    expect_eq(v.call(100), 100, "unpatched check_len(100)")

    bundle = env.build(exe, FIX_CHECK_LEN)
    bid = env.bundle_id(bundle)
    info = env.hp_json("info", bundle)
    expect_eq(info["cves"], ["CVE-2099-0001"], "info cves")
    expect_eq([f["name"] for f in info["functions"]], ["check_len"], "info functions")
    expect(info["completeness"] is None and info["refusals"] == [],
           "a bundle from a patch source: not checked, nothing refused, said as data")

    r = env.hp_json("apply", bundle, "--pid", v.pid, "--insecure")
    proc = r["processes"][0]
    expect_eq(proc["result"], "patched", "apply result")
    expect(proc["pause_us"] >= 0 and proc["threads"] == 1, f"pause reported: {proc}")
    expect_eq(v.call(100), -1, "patched check_len(100)")
    expect_eq(v.call(10), 10, "patched check_len(10)")
    expect(v.maps_objects(), "the patch object is mapped from the store")
    expect(all(p.startswith(env.root) for p in v.maps_objects()), "object is in the store")
    patched = function_bytes(v.pid, exe, "check_len")
    expect(patched != original and patched[0:1] == b"\xe9" or patched[4:5] == b"\xe9",
           "a jmp rel32 sits at the entry")

    st = env.hp_json("status", "--pid", v.pid)
    expect_eq(st["patches"][0]["id"], bid, "status id")
    expect_eq(st["patches"][0]["processes"][0]["state"], "applied", "status state")
    expect_eq(st["patches"][0]["cves"], ["CVE-2099-0001"], "status cves")

    again = env.hp_json("apply", bundle, "--pid", v.pid, "--insecure")
    expect_eq(again["processes"][0]["result"], "already", "second apply is a no-op")

    r = env.hp_json("revert", bid, "--pid", v.pid)
    expect_eq(r["processes"][0]["result"], "reverted", "revert result")
    expect_eq(function_bytes(v.pid, exe, "check_len"), original, "original bytes are back")
    expect_eq(code_private_dirty_kb(v.pid, exe), dirty_before,
              "the code page copied for the jump is shared again after revert")
    expect_eq(v.maps_objects(), [], "patch object unmapped after revert")
    expect_eq(v.call(100), 100, "reverted check_len(100)")
    expect_eq(env.hp_json("status", "--pid", v.pid)["patches"], [], "status after revert")

    r = env.hp_json("revert", bid, "--pid", v.pid)
    expect_eq(r["processes"][0]["result"], "skipped", "revert when not applied")
    expect(v.alive(), "target still running")


main(test)
