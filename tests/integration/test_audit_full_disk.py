#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""A full disk never tears the audit log, and nothing is changed that cannot
be recorded. On a real full file system (a 2 MiB tmpfs holding --root):

1. an audit append that only part of fits (the log's last page has some
   room, then the disk is full) leaves no half line: `audit verify` still
   says intact, and the log has exactly the length it had;
2. `apply` refuses (exit 2) before touching the process, naming the audit
   log and the full disk; the process runs unpatched code;
3. once space is freed, apply works and the chain goes on unbroken."""
import sys, os, subprocess
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "../lib"))
from hptest import *

PAGE = 4096


def log_size(env):
    return os.path.getsize(os.path.join(env.root, "var/log/hotpatch/audit.log"))


def refusal(env, name):
    """One audited refusal: an apply of a bundle that does not exist."""
    return env.hp("apply", os.path.join(env.dir, name), "--pid", "1", check=False)


def fill(path):
    """Write zeros until the file system is full."""
    with open(path, "wb", buffering=0) as f:
        block = bytes(PAGE)
        try:
            while True:
                f.write(block)
        except OSError:
            pass


def verified_lines(env, what):
    r = env.hp("audit", "verify", check=False)
    expect_eq(r.returncode, 0, f"audit verify {what}: {r.stdout}{r.stderr}")
    return int(r.stdout.split()[-2])


def test(env):
    mnt = os.path.join(env.dir, "small")
    os.makedirs(mnt)
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", mnt], check=True)
    try:
        run(env, mnt)
    finally:
        subprocess.run(["umount", "-l", mnt])


def run(env, mnt):
    env.root = os.path.join(mnt, "root")
    os.makedirs(env.root)
    v = env.victim("victim")
    bundle = env.build(fixture("victim"), FIX_CHECK_LEN)
    bid = env.bundle_id(bundle)
    env.hp("apply", bundle, "--pid", v.pid, "--insecure")
    env.hp("revert", bid, "--pid", v.pid)
    # Refusals until the log is past anything apply set aside and its last
    # page has a little room left, less than a line.
    start, i = log_size(env), 0
    while not (log_size(env) > start + 3 * PAGE and 0 < PAGE - log_size(env) % PAGE < 80):
        refusal(env, "x" * (i % 37))
        i += 1
        expect(i < 400, "could not bring the log's end near a page boundary")
    before, lines = log_size(env), verified_lines(env, "before the disk is full")

    fill(os.path.join(mnt, "filler"))
    r = refusal(env, "y" * 30)
    expect("could not write the audit log" in r.stderr, f"the failed append is said: {r.stderr}")
    expect_eq(log_size(env), before, "log length after a failed append (no half line)")
    expect_eq(verified_lines(env, "after a failed append"), lines, "lines after a failed append")

    r = env.hp("apply", bundle, "--pid", v.pid, "--insecure", check=False)
    expect_eq(r.returncode, 2, f"apply on a full disk: {r.stdout}{r.stderr}")
    expect("audit log" in r.stderr and "No space left" in r.stderr,
           f"the refusal names the audit log and the full disk: {r.stderr}")
    expect_eq(v.call(100), 100, "the process was not touched")
    expect_eq(verified_lines(env, "after the refused apply"), lines, "lines after the refusal")

    os.unlink(os.path.join(mnt, "filler"))
    env.hp("apply", bundle, "--pid", v.pid, "--insecure")
    expect_eq(v.call(100), -1, "patched once there is room")
    expect_eq(verified_lines(env, "after space was freed"), lines + 1, "the apply's line")


main(test)
