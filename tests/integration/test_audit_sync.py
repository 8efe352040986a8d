#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""One durable audit append per command (issue 19): an apply or revert over
several processes makes the audit log durable with one fdatasync and syncs
nothing else once the store holds the bundle. The head record is no longer
synced, so after a power cut it may be behind the log's durable lines:
`audit verify` then accepts the lines after the head's own line (and says
so), the next append links to the log's real last line, and a head that
names no line of the log still fails."""
import hashlib
import subprocess
import sys, os
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "../lib"))
from hptest import *


def syncs(env, *args):
    """The fsync-family calls of one hotpatch command, from strace."""
    out = os.path.join(env.dir, "strace.txt")
    # LeakSanitizer cannot run under a tracer (strace): off for this run.
    asan = os.environ.get("ASAN_OPTIONS", "")
    subprocess.run(["strace", "-f", "-qq", "-e", "trace=fsync,fdatasync,sync_file_range,syncfs",
                    "-o", out, HOTPATCH, "--root", env.root, *args], check=True,
                   capture_output=True, text=True,
                   env={**os.environ, "ASAN_OPTIONS": (asan + ":" if asan else "") + "detect_leaks=0"})
    with open(out) as f:
        return [l for l in f if "sync" in l and "resumed" not in l]


def test(env):
    vs = [env.victim("victim") for _ in range(3)]
    bundle = env.build(fixture("victim"), FIX_CHECK_LEN)
    bid = env.bundle_id(bundle)
    pids = [a for v in vs for a in ("--pid", str(v.pid))]

    env.hp("apply", bundle, *pids, "--insecure")  # stores the bundle (synced once)
    env.hp("revert", bid, *pids)
    calls = syncs(env, "apply", bundle, *pids, "--insecure")
    expect_eq(len(calls), 1, f"one sync for an apply over 3 processes: {calls}")
    expect("fdatasync" in calls[0], calls[0])
    calls = syncs(env, "revert", bid, *pids)
    expect_eq(len(calls), 1, f"one sync for a revert over 3 processes: {calls}")

    # A power cut after the log's sync but before the head reached the
    # disk: the head on disk names an earlier line.
    log = os.path.join(env.root, "var/log/hotpatch/audit.log")
    head = os.path.join(env.root, "var/lib/hotpatch/state/audit.head")
    lines = open(log, "rb").read().splitlines()
    earlier = hashlib.sha256(lines[-3]).hexdigest()
    open(head, "w").write(f"{len(lines) - 2:020d} {earlier}\n")
    r = env.hp("audit", "verify")
    expect(f"intact: {len(lines)} entries" in r.stdout, r.stdout)
    expect("the last 2 were written after the head record on disk" in r.stdout, r.stdout)

    # The next append links to the log's real last line and puts the head
    # right again.
    env.hp("apply", bundle, "--pid", vs[0].pid, "--insecure")
    r = env.hp("audit", "verify")
    expect(f"intact: {len(lines) + 1} entries" in r.stdout and "after the head" not in r.stdout,
           r.stdout)
    new = open(log, "rb").read().splitlines()
    expect_eq(json.loads(new[-1])["prev"], hashlib.sha256(new[-2]).hexdigest(),
              "the new line follows the log's last line, not the head's")

    # A head that names no line of the log is truncation or tampering.
    open(head, "w").write(f"{len(new):020d} {'ab' * 32}\n")
    r = env.hp("audit", "verify", check=False)
    expect(r.returncode != 0 and "truncated" in r.stderr, r.stdout + r.stderr)


main(test)
