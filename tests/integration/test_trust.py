#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Only bundles signed by a trusted key reach a process. Refused, each with
one line and exit code 2, the target untouched: no signature, a wrong key,
any flipped byte in any region, a truncated file, a key file that others can
write or that root does not own. The real minisign tool signs bundles that
hotpatch accepts and verifies bundles that hotpatch signed."""
import pwd
import subprocess
import sys, os
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "../lib"))
from hptest import *


def refused(env, v, original, bundle, why, *extra):
    r = env.hp("apply", bundle, "--pid", v.pid, *extra, check=False)
    expect_eq(r.returncode, 2, f"{why}: exit code ({r.stdout}{r.stderr})")
    lines = [l for l in r.stderr.splitlines() if l.strip()]
    expect_eq(len(lines), 1, f"{why}: one line of error: {r.stderr}")
    expect_eq(function_bytes(v.pid, fixture("victim"), "check_len"), original, f"{why}: code")
    expect_eq(v.maps_objects(), [], f"{why}: nothing mapped")
    return lines[0]


def test(env):
    v = env.victim("victim")
    original = function_bytes(v.pid, fixture("victim"), "check_len")
    key = trust_key(env)
    bundle = signed_bundle(env, fixture("victim"), FIX_CHECK_LEN, key)

    unsigned = env.build(fixture("victim"), FIX_CHECK_LEN, name="unsigned")
    msg = refused(env, v, original, unsigned, "unsigned")
    expect("not signed" in msg, msg)

    other = os.path.join(env.dir, "other")
    env.hp("keygen", "-k", other)
    wrong = os.path.join(env.dir, "wrong.hpb")
    shutil.copy(unsigned, wrong)
    env.hp("sign", wrong, "-k", other)
    msg = refused(env, v, original, wrong, "untrusted key")
    expect("not trusted" in msg, msg)

    data = open(bundle, "rb").read()
    for region, (lo, hi) in bundle_regions(data).items():
        for at in sorted({lo, (lo + hi) // 2, hi - 1}):
            bad = bytearray(data)
            bad[at] ^= 0x01
            path = os.path.join(env.dir, "flipped.hpb")
            open(path, "wb").write(bad)
            refused(env, v, original, path, f"flip in {region} at {at}")
    for cut in (1, 31, 100, len(data) // 2, len(data) - 40):
        path = os.path.join(env.dir, "cut.hpb")
        open(path, "wb").write(data[:-cut])
        msg = refused(env, v, original, path, f"truncated by {cut}")
        # Said to be cut short, not "not signed, use --insecure".
        expect("truncated or corrupt" in msg and "--insecure" not in msg, msg)

    tkey = os.path.join(env.root, "etc/hotpatch/trusted.d/key.pub")
    os.chmod(tkey, 0o664)
    msg = refused(env, v, original, bundle, "group-writable key")
    expect("writable by group or others" in msg, msg)
    os.chmod(tkey, 0o646)
    refused(env, v, original, bundle, "world-writable key")
    os.chmod(tkey, 0o644)
    os.chown(tkey, pwd.getpwnam("nobody").pw_uid, -1)
    msg = refused(env, v, original, bundle, "key not owned by root")
    expect("not owned by root" in msg, msg)
    os.chown(tkey, 0, -1)

    # --insecure lets an unsigned bundle through, with a warning.
    r = env.hp("apply", unsigned, "--pid", v.pid, "--insecure")
    expect("warning: --insecure" in r.stderr, r.stderr)
    env.hp("revert", env.bundle_id(unsigned), "--pid", v.pid)

    # The signed bundle applies.
    expect_eq(env.hp_json("apply", bundle, "--pid", v.pid)["processes"][0]["result"], "patched",
              "signed bundle")
    expect_eq(v.call(100), -1, "patched")
    env.hp("revert", env.bundle_id(bundle), "--pid", v.pid)

    # Real minisign, both directions.
    mkey, mpub = os.path.join(env.dir, "m.key"), os.path.join(env.dir, "m.pub")
    subprocess.run(["minisign", "-G", "-W", "-s", mkey, "-p", mpub], check=True,
                   capture_output=True)
    shutil.copy(mpub, os.path.join(env.root, "etc/hotpatch/trusted.d/m.pub"))
    subprocess.run(["minisign", "-S", "-s", mkey, "-m", unsigned, "-x", unsigned + ".minisig"],
                   check=True, capture_output=True)
    by_minisign = os.path.join(env.dir, "by-minisign.hpb")
    env.hp("sign", unsigned, "--attach", unsigned + ".minisig", "-o", by_minisign)
    expect_eq(env.hp_json("apply", by_minisign, "--pid", v.pid)["processes"][0]["result"],
              "patched", "a bundle signed by minisign")
    env.hp("revert", env.bundle_id(by_minisign), "--pid", v.pid)
    payload = os.path.join(env.dir, "payload.hpb")
    env.hp("sign", bundle, "-k", key, "--detach", "-o", payload)
    r = subprocess.run(["minisign", "-V", "-p", key + ".pub", "-m", payload], capture_output=True,
                       text=True)
    expect_eq(r.returncode, 0, f"minisign verifies hotpatch's signature: {r.stderr}")
    open(payload, "r+b").write(b"X")
    r = subprocess.run(["minisign", "-V", "-p", key + ".pub", "-m", payload], capture_output=True)
    expect(r.returncode != 0, "minisign rejects a modified payload")
    expect_eq(v.call(100), 100, "target back to the original")
    read_only_audit(env, v, original, data)


def read_only_audit(env, v, original, data):
    """With an audit directory that cannot be written, a tampered bundle's
    refusal still says why first; the audit failure follows as a warning."""
    bad = bytearray(data)
    bad[len(bad) // 2] ^= 0x01
    path = os.path.join(env.dir, "tampered.hpb")
    open(path, "wb").write(bad)
    logdir = os.path.join(env.root, "var/log/hotpatch")
    subprocess.run(["mount", "-t", "tmpfs", "-o", "ro", "tmpfs", logdir], check=True)
    try:
        r = env.hp("apply", path, "--pid", v.pid, check=False)
    finally:
        subprocess.run(["umount", logdir], check=True)
    expect_eq(r.returncode, 2, f"tampered bundle, read-only audit: {r.stderr}")
    lines = r.stderr.splitlines()
    expect("audit log" not in lines[0] and "signature" in lines[0],
           f"the refusal's reason comes first: {r.stderr}")
    expect(any("could not write the audit log" in l for l in lines[1:]),
           f"then the audit failure: {r.stderr}")
    expect_eq(function_bytes(v.pid, fixture("victim"), "check_len"), original, "code untouched")


main(test)
