#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""An apply writes nothing durable but its audit line once the patch is in
the store: two bundle files of one patch id (signed by two trusted keys)
applied in turn leave the stored bundle and object untouched (same inode,
same mtime), and no fsync/fdatasync of that apply touches anything but the
audit log. A first apply syncs the stored bundle, never the object (a cache
compared with the bundle on every use). A stored copy whose signer is no
longer trusted is replaced by the verified one."""
import subprocess
import sys, os
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "../lib"))
from hptest import *


def stamp(path):
    st = os.stat(path)
    return (st.st_ino, st.st_mtime_ns)


def synced_paths(env, *args):
    """Runs hotpatch under strace; the paths of the files it synced."""
    log = os.path.join(env.dir, "strace.log")
    cmd = ["strace", "-f", "-y", "-qq", "-e", "trace=fsync,fdatasync,sync_file_range,syncfs",
           "-o", log, HOTPATCH, "--root", env.root, *map(str, args)]
    # LeakSanitizer cannot run under a tracer.
    e = dict(os.environ, ASAN_OPTIONS=os.environ.get("ASAN_OPTIONS", "") + ":detect_leaks=0")
    r = subprocess.run(cmd, capture_output=True, text=True, env=e, timeout=120)
    if r.returncode != 0:
        raise Failure(f"{' '.join(cmd)} exited {r.returncode}:\n{r.stdout}{r.stderr}")
    paths = []
    for line in open(log):
        if "<" in line and "sync" in line:
            paths.append(line.split("<", 1)[1].split(">", 1)[0])
    return paths


def test(env):
    v = env.victim("victim")
    k1, k2 = trust_key(env, "k1"), trust_key(env, "k2")
    unsigned = env.build(fixture("victim"), FIX_CHECK_LEN)
    a, b = os.path.join(env.dir, "a.hpb"), os.path.join(env.dir, "b.hpb")
    for path, key in ((a, k1), (b, k2)):
        shutil.copy(unsigned, path)
        env.hp("sign", path, "-k", key)
    bid = env.bundle_id(a)
    expect_eq(env.bundle_id(b), bid, "one payload, one id")
    expect(open(a, "rb").read() != open(b, "rb").read(), "two different files")
    store = os.path.join(env.root, "var/lib/hotpatch")
    stored, obj = f"{store}/bundles/{bid}.hpb", f"{store}/objects/{bid}.hpo"
    audit_dir = os.path.join(env.root, "var/log/hotpatch")

    def not_audit(paths):  # the log and its head (the hash of its last line)
        return [p for p in paths
                if not p.startswith(audit_dir) and not os.path.basename(p).startswith("audit")]

    synced = synced_paths(env, "apply", a, "--pid", v.pid)
    expect([p for p in synced if p.startswith(stored)],  # its temp file, before the rename
           f"a first apply makes the stored bundle durable: {synced}")
    expect(not [p for p in synced if p.startswith(f"{store}/objects")],
           f"the object is never synced: {synced}")
    env.hp("revert", bid, "--pid", v.pid)
    before = (stamp(stored), stamp(obj))

    for path in (b, a, b):
        synced = synced_paths(env, "apply", path, "--pid", v.pid)
        expect_eq(v.call(100), -1, f"patched by {os.path.basename(path)}")
        expect_eq(not_audit(synced), [],
                  "apply of a stored patch syncs only the audit log")
        expect_eq((stamp(stored), stamp(obj)), before,
                  f"stored copies untouched by {os.path.basename(path)}")
        env.hp("revert", bid, "--pid", v.pid)
    env.hp("apply", unsigned, "--pid", v.pid, "--insecure")
    expect_eq((stamp(stored), stamp(obj)), before, "untouched by the unsigned copy")
    env.hp("revert", bid, "--pid", v.pid)
    expect_eq(open(stored, "rb").read(), open(a, "rb").read(), "the first file stays stored")

    # k1 no longer trusted: its copy must not stay the stored one.
    os.unlink(os.path.join(env.root, "etc/hotpatch/trusted.d/k1.pub"))
    env.hp("apply", b, "--pid", v.pid)
    expect(stamp(stored) != before[0], "the stored copy is replaced")
    expect_eq(open(stored, "rb").read(), open(b, "rb").read(), "by the verified file")
    expect_eq(stamp(obj), before[1], "the object is the same")
    env.hp("revert", bid, "--pid", v.pid)

    # A damaged object is mended on the next use.
    open(obj, "r+b").write(b"\0" * 64)
    env.hp("apply", bid, "--pid", v.pid)
    expect_eq(v.call(100), -1, "patched with the mended object")


main(test)
