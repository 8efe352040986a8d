#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""commit and rollback write a new inode: the file's owner, group, mode
(set-gid bit included), extended attributes and file capabilities
(security.capability, set with the real setcap) must come across, both
ways, and the process started from the committed file really holds the
capability."""
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "../lib"))
from commitlib import build_tree, diff_bundle, sha256  # noqa: E402
from hptest import expect, expect_eq, main, trust_key, wait_for  # noqa: E402

UID, GID = 4321, 1234
MODE = 0o2755
CAP = "cap_net_bind_service=ep"
USER_XATTR = ("user.hotpatch.test", b"keep me")


def identity(path):
    st = os.stat(path)
    caps = subprocess.run(["getcap", path], capture_output=True, text=True, check=True).stdout
    return {
        "owner": (st.st_uid, st.st_gid),
        "mode": oct(st.st_mode & 0o7777),
        "xattr": os.getxattr(path, USER_XATTR[0]),
        "caps": caps.split(None, 1)[1].strip() if caps.strip() else "",
    }


def cap_eff(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("CapEff:"):
                return int(line.split()[1], 16)
    return 0


def start_as_nobody(env, path):
    os.chmod(env.dir, 0o711)
    run = os.path.join(env.dir, "nobody")
    os.mkdir(run)
    os.chmod(run, 0o777)
    sock = os.path.join(run, "s")
    p = subprocess.Popen([path, sock], user=65534, group=65534, stdin=subprocess.DEVNULL,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    env.procs.append(p)
    wait_for(lambda: os.path.exists(sock) or p.poll() is not None, what="the server to start")
    expect(p.poll() is None, f"the server runs as nobody (exit {p.returncode})")
    return p.pid


def test(env):
    key = trust_key(env)
    tree = build_tree(env)
    target = os.path.join(tree, "server")
    bundle = diff_bundle(env, tree, key)
    bid = env.bundle_id(bundle)

    os.chown(target, UID, GID)
    os.chmod(target, MODE)
    os.setxattr(target, *USER_XATTR)
    subprocess.run(["setcap", CAP, target], check=True)
    want = identity(target)
    expect_eq(want, {"owner": (UID, GID), "mode": oct(MODE), "xattr": USER_XATTR[1],
                     "caps": CAP}, "the original's identity as set up")
    orig = sha256(target)

    env.hp("commit", bundle)
    expect(sha256(target) != orig, "committed")
    expect_eq(identity(target), want, "the committed file keeps owner, mode, xattrs, caps")
    # The capability works, not just reads back: a process started from the
    # committed file by an unprivileged user holds it.
    pid = start_as_nobody(env, target)
    expect_eq(cap_eff(pid), 1 << 10, "a process of the committed file, started by nobody, "
              "holds exactly CAP_NET_BIND_SERVICE")

    env.hp("rollback", bid, "--no-apply")
    expect_eq(sha256(target), orig, "rolled back")
    expect_eq(identity(target), want, "the restored file keeps owner, mode, xattrs, caps")


if __name__ == "__main__":
    main(test)
