#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Making a patch permanent, end to end, on a real target built from a
source diff:

- apply stages the bundle (commit = at-boot), `commit --staged` replaces the
  file the running process was started from: that process keeps running,
  patched, on the old inode; a process started afterwards runs the fixed
  file, with no live patch, and behaves fixed;
- commit again is "already committed"; status says committed;
- rollback restores the byte-identical original and re-applies the live
  patch to a process of the original that had lost it; status says rolled
  back; every step is in the audit log, whose chain verifies.
"""
import os
import shutil
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "../lib"))
from commitlib import (FIXED_ANSWER, ORIGINAL_ANSWER, PROBE, audit_ops, build_tree,  # noqa: E402
                       diff_bundle, sha256, state, temp_files)
from hptest import expect, expect_eq, main, trust_key  # noqa: E402


def mapped_target(pid, path):
    """How @pid maps @path: "current", "deleted" (an older inode), or None."""
    with open(f"/proc/{pid}/maps") as f:
        for line in f:
            if path + " (deleted)" in line:
                return "deleted"
            if line.rstrip().endswith(path):
                return "current"
    return None


def test(env):
    key = trust_key(env)
    tree = build_tree(env)
    target = os.path.join(tree, "server")
    original = os.path.join(env.dir, "server.original")
    shutil.copy(target, original)
    bundle = diff_bundle(env, tree, key)
    bid = env.bundle_id(bundle)
    orig_sha = sha256(target)

    old = env.victim(target)
    expect_eq(old.ask(PROBE), ORIGINAL_ANSWER, "the original answers as the original")

    # apply: patched, and staged for the next boot.
    r = env.hp("apply", bundle, "--all")
    expect(f"pid {old.pid}" in r.stdout and "patched" in r.stdout, f"apply: {r.stdout}")
    expect(f"staged {bid} for commit" in r.stdout, f"apply says it staged: {r.stdout}")
    expect_eq(state(env, bid), "staged", "status after apply")
    expect_eq(old.ask(PROBE), FIXED_ANSWER, "patched in memory")

    # The boot unit's command.
    r = env.hp("commit", "--staged")
    expect(f"commit {bid} (fix): committed" in r.stdout, f"commit --staged: {r.stdout}")
    fixed_sha = sha256(target)
    expect(fixed_sha != orig_sha, "the file on disk changed")
    expect_eq(state(env, bid), "committed", "status after the commit")
    expect_eq(temp_files(tree), [], "no temp file left beside the target")
    backup = os.path.join(env.root, "var/lib/hotpatch/backups", bid)
    expect_eq(sha256(backup), orig_sha, "the backup is the original")
    expect_eq(os.stat(backup).st_mode & 0o777, 0o600, "the backup is root-only")
    expect_eq(os.stat(os.path.dirname(backup)).st_mode & 0o777, 0o700,
              "the backup directory is root-only")

    # The running process keeps its live patch, on the old inode.
    expect(old.alive(), "the running process survived the commit")
    expect_eq(old.ask(PROBE), FIXED_ANSWER, "the running process is still patched")
    expect_eq(len(set(old.maps_objects())), 1, "it still maps the patch object")
    expect_eq(mapped_target(old.pid, target), "deleted", "it runs the old (replaced) inode")

    # A process started now runs the fixed file: fixed without a live patch.
    new = env.victim(target)
    expect_eq(new.ask(PROBE), FIXED_ANSWER, "a new process behaves fixed")
    expect_eq(new.maps_objects(), [], "a new process has no live patch")
    expect_eq(mapped_target(new.pid, target), "current", "it runs the new file")
    r = env.hp_json("apply", bundle, "--pid", new.pid, check=False)["processes"][0]
    expect_eq(r["result"], "skipped", f"the bundle does not match the fixed file: {r}")
    expect("build-id" in r.get("reason", ""), f"skipped for its build-id: {r}")

    r = env.hp("commit", bid)
    expect("already committed" in r.stdout, f"a second commit: {r.stdout}")
    expect_eq(sha256(target), fixed_sha, "a second commit changes nothing")

    # Take the live patch out of the old process: after the rollback, the
    # original is on disk again and its processes need the live patch back.
    env.hp("revert", bid, "--pid", old.pid)
    expect_eq(old.ask(PROBE), ORIGINAL_ANSWER, "the old process, reverted")
    r = env.hp("rollback", bid)
    expect(f"rollback {bid} (fix): rolled back" in r.stdout, f"rollback: {r.stdout}")
    with open(target, "rb") as a, open(original, "rb") as b:
        expect(a.read() == b.read(), "the rolled back file is byte-identical to the original")
    expect_eq(state(env, bid), "rolled-back", "status after the rollback")
    expect(not os.path.exists(backup), "the backup is gone once restored")
    expect_eq(temp_files(tree), [], "no temp file left beside the target")
    expect_eq(old.ask(PROBE), FIXED_ANSWER, "rollback re-applied the live patch to the old one")
    expect_eq(new.ask(PROBE), FIXED_ANSWER, "the process of the fixed file stays fixed")
    expect_eq(new.maps_objects(), [], "and needed no live patch")
    started = env.victim(target)
    expect_eq(started.ask(PROBE), ORIGINAL_ANSWER, "a process started now runs the original")

    # A rolled-back patch is not staged again by the next apply.
    r = env.hp("apply", bid, "--pid", started.pid)
    expect("staged" not in r.stdout, f"no re-staging after a rollback: {r.stdout}")
    expect_eq(state(env, bid), "rolled-back", "still rolled back")

    ops = [(op, res) for op, res, p in audit_ops(env) if p == bid and op in
           ("stage", "commit", "rollback")]
    expect_eq(ops, [("stage", "ok"), ("commit", "committed"), ("commit", "already-committed"),
                    ("rollback", "rolled-back")], "the audit log's commit history")
    env.hp("audit", "verify")


if __name__ == "__main__":
    main(test)
