#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The audit log survives rotation. The shipped logrotate rule
(data/logrotate/hotpatch, its path moved under the test's root) is run by
the real logrotate, forced, between applies, three times: audit.log.1 stays
plain (delaycompress), the older rotations are gzip files, and the first
line of each new audit.log links to the last line of the file renamed away.
`audit verify` follows the chain through all of them. Editing a line inside
a compressed rotation, removing a rotation from the middle, and cutting a
compressed rotation short are each refused, naming the file; removing the
oldest rotation (what logrotate itself does past its count) is not, and
verify says how many entries went with it. A writer stopped while it holds
the log's lock as logrotate renames the log makes a second writer wait, and
its line ends the rotated file, the second's starts the new one. Two writers applying while logrotate
rotates again and again leave a chain that still verifies."""
import gzip
import hashlib
import re
import signal
import subprocess
import sys, os
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "../lib"))
from hptest import *

RULE = os.path.join(SRC, "data/logrotate/hotpatch")


def rotate(env):
    """logrotate -f with the shipped rule, for the log under env's root."""
    log = os.path.join(env.root, "var/log/hotpatch/audit.log")
    conf = os.path.join(env.dir, "logrotate.conf")
    text = open(RULE).read()
    expect("/var/log/hotpatch/audit.log {" in text, "the shipped rule names the audit log")
    with open(conf, "w") as f:
        f.write(text.replace("/var/log/hotpatch/audit.log {", log + " {"))
    r = subprocess.run(["logrotate", "-f", "-s", os.path.join(env.dir, "logrotate.state"), conf],
                       capture_output=True, text=True, timeout=60)
    expect_eq((r.returncode, r.stderr), (0, ""), "logrotate")


def lines_of(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rt") as f:
        return f.read().splitlines()


def cycle(env, bundle, v):
    env.hp("apply", bundle, "--pid", v.pid)
    env.hp("revert", bundle, "--pid", v.pid)


def verify_fails(env, what, needle):
    r = env.hp("audit", "verify", check=False)
    expect_eq(r.returncode, 2, f"audit verify after {what}")
    expect(needle in r.stderr, f"{what}: {r.stderr}")


def tamper(env, logdir, entries):
    gz = os.path.join(logdir, "audit.log.2.gz")
    original = open(gz, "rb").read()
    lines = lines_of(gz)
    lines[0] = lines[0].replace('"uid":0', '"uid":1000')
    with gzip.open(gz, "wt") as f:
        f.write("".join(l + "\n" for l in lines))
    verify_fails(env, "an edited line in a compressed rotation",
                 "audit.log.2.gz line 2 does not follow line 1")
    open(gz, "wb").write(original[:len(original) // 2])
    verify_fails(env, "a compressed rotation cut short", "audit.log.2.gz cannot be decompressed")
    os.unlink(gz)
    verify_fails(env, "a rotation removed from the middle",
                 "audit.log.1 line 1 does not follow the last line of audit.log.3.gz")
    open(gz, "wb").write(original)
    expect(f"intact: {entries} entries" in env.hp("audit", "verify").stdout, "restored")
    oldest = os.path.join(logdir, "audit.log.3.gz")
    gone = len(lines_of(oldest))
    os.unlink(oldest)
    out = env.hp("audit", "verify").stdout
    expect(f"intact: {entries - gone} entries in 3 files" in out
           and f"the {gone} entries before them were rotated away" in out, out)


def stopped(proc):
    with open(f"/proc/{proc.pid}/stat") as f:
        return f.read().rsplit(")", 1)[1].split()[0] == "T"


def in_flock(proc):
    """@proc exited, or waits in flock(2) (x86-64 system call 73)."""
    if proc.poll() is not None:
        return True
    with open(f"/proc/{proc.pid}/syscall") as f:
        return f.read().split()[0] == "73"


def writer_held_across_rotation(env, logdir, key):
    """A writer stopped holding the log's lock with audit.log open; logrotate
    renames the log; a second writer must wait for the first (the lock is not
    the renamed file's), whose line then ends audit.log.1, the second's
    starting the new audit.log, linked to it."""
    bundles = [signed_bundle(env, fixture("victim"), check_len_patch(n, -1, f"w{n}"), key,
                             name=f"w{n}") for n in (10, 20)]
    env.hp("audit", "verify")
    first = subprocess.Popen([HOTPATCH, "--root", env.root, "install", bundles[0]],
                             env={**os.environ, "HOTPATCH_FAULT": "audit-locked",
                                  "HOTPATCH_FAULT_ACTION": "stop"})
    wait_for(lambda: stopped(first), what="the first writer to stop holding the lock")
    rotate(env)
    second = subprocess.Popen([HOTPATCH, "--root", env.root, "install", bundles[1]])
    wait_for(lambda: in_flock(second), what="the second writer to wait for the lock or finish")
    os.kill(first.pid, signal.SIGCONT)
    expect_eq((first.wait(timeout=30), second.wait(timeout=30)), (0, 0), "both installs")
    ends = json.loads(lines_of(os.path.join(logdir, "audit.log.1"))[-1])
    starts = json.loads(lines_of(os.path.join(logdir, "audit.log"))[0])
    expect_eq((ends["op"], ends["patch"], starts["op"], starts["patch"]),
              ("install", env.bundle_id(bundles[0]), "install", env.bundle_id(bundles[1])),
              "the held line ends the rotated file, the waiting one starts the new log")
    env.hp("audit", "verify")


def test(env):
    v = env.victim("victim")
    key = trust_key(env)
    bundle = signed_bundle(env, fixture("victim"), FIX_CHECK_LEN, key)
    logdir = os.path.join(env.root, "var/log/hotpatch")
    for _ in range(3):
        cycle(env, bundle, v)
        rotate(env)
    cycle(env, bundle, v)
    expect_eq(sorted(os.listdir(logdir)),
              ["audit.log", "audit.log.1", "audit.log.2.gz", "audit.log.3.gz"],
              "the log and its rotations, the newest left uncompressed")
    last = lines_of(os.path.join(logdir, "audit.log.1"))[-1]
    first = json.loads(lines_of(os.path.join(logdir, "audit.log"))[0])
    expect_eq(first["prev"], hashlib.sha256(last.encode()).hexdigest(),
              "the new log's first line links to the rotated log's last line")
    entries = sum(len(lines_of(os.path.join(logdir, f))) for f in os.listdir(logdir))
    out = env.hp("audit", "verify").stdout
    expect(f"intact: {entries} entries in 4 files" in out, out)

    tamper(env, logdir, entries)
    writer_held_across_rotation(env, logdir, key)

    # Rotations while two writers apply and revert: a line written to a
    # file renamed a moment before stays in the chain, and the writers never
    # extend it from the same line (their lock is not the renamed file's).
    for f in os.listdir(logdir):
        os.unlink(os.path.join(logdir, f))
    os.unlink(os.path.join(env.root, "var/lib/hotpatch/state/audit.head"))
    cmd = f"{HOTPATCH} --root {env.root}"
    busy = []
    for victim in (v, env.victim("victim")):
        script = (f"for i in $(seq 15); do {cmd} apply {bundle} --pid {victim.pid} && "
                  f"{cmd} revert {bundle} --pid {victim.pid} || exit 1; done")
        busy.append(subprocess.Popen(["sh", "-c", script], stdout=subprocess.DEVNULL))
    rotations = 0
    while any(b.poll() is None for b in busy):
        if os.path.exists(os.path.join(logdir, "audit.log")):
            rotate(env)
            rotations += 1
    expect_eq([b.returncode for b in busy], [0, 0], "applies and reverts during the rotations")
    expect(rotations > 1, f"rotated while applying ({rotations} times)")
    # (past the rule's count of 24, logrotate deletes the oldest: verify
    # counts what went with them)
    out = env.hp("audit", "verify").stdout
    m = re.search(r"intact: (\d+) entries(?:.*the (\d+) entries before them were rotated away)?",
                  out)
    expect(m and int(m.group(1)) + int(m.group(2) or 0) == 60,
           f"all 60 lines accounted for after {rotations} rotations: {out}")


main(test)
