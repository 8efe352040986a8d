# SPDX-License-Identifier: MIT
"""Helpers for the commit and rollback tests: a real target built from a
corpus case (tests/corpus/static-func), a signed bundle built from its
source diff (so it carries the fixed file), and ways to look at the file on
disk and at the store's view of it."""
import hashlib
import json
import os
import re
import shutil
import struct
import subprocess

from hptest import HOTPATCH, SRC, Failure, expect, expect_eq

CASE = os.path.join(SRC, "tests/corpus/static-func")
# What tells the original from the fix (see the case's `requests`).
PROBE = "len 65"
SEC_FILE_UPDATE = 3  # the bundle section that carries the fixed file
ORIGINAL_ANSWER = "65"
FIXED_ANSWER = "-1"


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def build_tree(env, name="app"):
    """The case's original tree, built in env.dir/NAME; returns its path.
    Debug info carries the directory, so each tree's build-id is its own and
    `--all` matches only this test's processes."""
    tree = os.path.join(env.dir, name)
    shutil.copytree(os.path.join(CASE, "src"), tree)
    shutil.copy(os.path.join(SRC, "tests/corpus/common/server.c"), tree)
    r = subprocess.run(["make", "-s"], cwd=tree, capture_output=True, text=True)
    expect(r.returncode == 0, f"make in {tree}: {r.stdout}{r.stderr}")
    return tree


def diff_bundle(env, tree, key, target=None, name="fix", patch=None):
    """A bundle built from the case's diff (or @patch) for @target (default:
    the tree's server), signed with @key unless it is None: it carries the
    fixed file for commit."""
    target = target or os.path.join(tree, "server")
    out = os.path.join(env.dir, f"{name}.hpb")
    env.hp("build", "--target", target, "--source", tree, "--diff",
           patch or os.path.join(CASE, "fix.patch"), "-o", out, timeout=300)
    if key:
        env.hp("sign", out, "-k", key)
    return out


def hp_at(root, *args, env_vars=None, check=True, timeout=120):
    """hotpatch with another --root than the Env's (a store on a test file
    system)."""
    e = dict(os.environ)
    if env_vars:
        e.update(env_vars)
    cmd = [HOTPATCH, "--root", root, *map(str, args)]
    r = subprocess.run(cmd, capture_output=True, text=True, env=e, timeout=timeout)
    if check and r.returncode != 0:
        raise Failure(f"{' '.join(cmd)} exited {r.returncode}:\n{r.stdout}{r.stderr}")
    return r


def stored(env, bid, root=None):
    """The store's entry for bundle @bid in `status --json`."""
    data = json.loads(hp_at(root or env.root, "status", "--json").stdout)
    for s in data.get("stored", []):
        if s["id"] == bid:
            return s
    raise Failure(f"bundle {bid} is not in the store's status: {data}")


def state(env, bid, root=None):
    return stored(env, bid, root)["state"]


def temp_files(directory):
    """Leftover temp files of a commit or rollback in @directory."""
    return [n for n in os.listdir(directory) if re.match(r"\.hotpatch-.*\.tmp$", n)]


def audit_ops(env):
    """(op, result, patch) of every line of the audit log."""
    path = os.path.join(env.root, "var/log/hotpatch/audit.log")
    out = []
    with open(path) as f:
        for line in f:
            ev = json.loads(line)
            out.append((ev.get("op"), ev.get("result"), ev.get("patch")))
    return out


def sections(data):
    """{type: bytes} of a bundle's payload, in file order."""
    nsec = struct.unpack_from("<I", data, 12)[0]
    out = {}
    for i in range(nsec):
        typ, _, off, size = struct.unpack_from("<IIQQ", data, 32 + 56 * i)
        out[typ] = bytes(data[off:off + size])
    return out


def reseal(data, replace):
    """An unsigned bundle with the sections of @data, those in @replace
    ({type: bytes}) swapped, and every checksum made right again: what a
    builder with a bug produces, or a signer fooled into signing. The result
    is well-formed, and a trusted key can sign it."""
    secs = sections(data)
    secs.update(replace)
    nsec = len(secs)
    at = 32 + 56 * nsec
    table = b""
    for typ, body in secs.items():
        table += struct.pack("<IIQQ", typ, 0, at, len(body)) + hashlib.sha256(body).digest()
        at += len(body)
    head = b"HPBUNDL1" + struct.pack("<IIQ", 32, nsec, at)
    head += hashlib.sha256(head + table).digest()[:8]
    return head + table + b"".join(secs.values())
