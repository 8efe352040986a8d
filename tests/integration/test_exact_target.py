#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""A process is patched only when its module is exactly the build the
bundle was made for: other builds are skipped, bytes that differ in the file
or in memory are refused, and revert never overwrites bytes someone else
wrote after the patch."""
import sys, os
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "../lib"))
from hptest import *


def tweak(code):
    """check_len with one instruction changed but still working: the
    counter's increment 1 becomes 2."""
    i = code.find(b"\x01", 5)
    expect(i > 0, "an immediate 1 to change in check_len")
    return code[:i] + b"\x02" + code[i + 1:], i


def test(env):
    exe = fixture("victim")
    bundle = env.build(exe, FIX_CHECK_LEN)
    bid = env.bundle_id(bundle)
    code = function_file_bytes(exe, "check_len")
    changed, at = tweak(code)

    # Same build-id, different bytes in the file.
    copy = os.path.join(env.dir, "victim-tampered")
    shutil.copy(exe, copy)
    data = bytearray(open(copy, "rb").read())
    off = data.find(code)
    data[off:off + len(code)] = changed
    open(copy, "wb").write(data)
    os.chmod(copy, 0o755)
    t = env.victim(copy)
    r = env.hp_json("apply", bundle, "--pid", t.pid, "--insecure", check=False)["processes"][0]
    expect_eq(r["result"], "failed", "file bytes differ")
    expect("in the file differ from the build" in r["reason"], r["reason"])
    expect_eq(t.maps_objects(), [], "nothing loaded")

    # Different bytes in memory only.
    v = env.victim("victim")
    value, size = symbol(exe, "check_len")
    addr = load_base(v.pid, exe) + value
    with open(f"/proc/{v.pid}/mem", "r+b") as m:
        m.seek(addr + at)
        m.write(b"\x02")
    r = env.hp_json("apply", bundle, "--pid", v.pid, "--insecure", check=False)["processes"][0]
    expect_eq(r["result"], "failed", "memory bytes differ")
    expect("in memory differs from the expected bytes" in r["reason"], r["reason"])
    expect_eq(mem_bytes(v.pid, addr, size), changed, "memory left as it was")
    expect_eq(v.maps_objects(), [], "nothing loaded")
    with open(f"/proc/{v.pid}/mem", "r+b") as m:
        m.seek(addr + at)
        m.write(b"\x01")

    # Someone else rewrites the patched entry: revert refuses to touch it.
    env.hp("apply", bundle, "--pid", v.pid, "--insecure")
    jump_at = addr + (4 if code[:4] == b"\xf3\x0f\x1e\xfa" else 0)
    foreign = b"\xe9\x00\x00\x00\x00"  # a jmp to the next instruction
    with open(f"/proc/{v.pid}/mem", "r+b") as m:
        m.seek(jump_at)
        m.write(foreign)
    r = env.hp_json("revert", bid, "--pid", v.pid, check=False)["processes"][0]
    expect_eq(r["result"], "failed", "revert over foreign bytes")
    expect("refusing to overwrite foreign bytes" in r["reason"], r["reason"])
    expect_eq(mem_bytes(v.pid, jump_at, 5), foreign, "foreign bytes left alone")
    expect(v.maps_objects(), "the patch object stays (its code may still be in use)")


main(test)
