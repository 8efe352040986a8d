#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""What commit refuses, and what it only reports:

- the file on disk is not the original the bundle was built for (a package
  upgrade replaced it): "superseded", exit 0, file untouched; the same after
  a commit: status says superseded, rollback leaves it alone;
- a bundle whose fixed file is not what its signed manifest promises (a
  damaged payload, re-sealed and signed by a trusted key; a fixed file of
  another fix): refused, exit 2, the file untouched, no backup, no litter;
- a stored bundle changed after it was signed: refused by its signature;
- a bundle built from patch source has no fixed file: live-only, refused;
- the policy: `commit = immediately` commits on apply, `never` never
  stages, `revert --all` withdraws a staging, unsigned bundles are never
  staged.
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "../lib"))
from commitlib import (CASE, SEC_FILE_UPDATE, audit_ops, build_tree, diff_bundle,  # noqa: E402
                       reseal, sections, sha256, state, temp_files)
from hptest import FIX_CHECK_LEN, expect, expect_eq, main, trust_key, unique_copy  # noqa: E402


def snapshot(path):
    st = os.stat(path)
    return sha256(path), st.st_ino, st.st_mtime_ns, st.st_mode


def set_policy(env, policy):
    os.makedirs(os.path.join(env.root, "etc/hotpatch"), exist_ok=True)
    env.write("root/etc/hotpatch/hotpatch.conf", f"commit = {policy}\n")


def superseded(env, key):
    tree = build_tree(env, "upgraded")
    target = os.path.join(tree, "server")
    bundle = diff_bundle(env, tree, key, name="upgraded")
    bid = env.bundle_id(bundle)
    env.hp("install", bundle)
    # A package upgrade: another file, put in place by rename.
    with open(target, "rb") as f:
        data = f.read()
    with open(target + ".new", "wb") as f:
        f.write(data + b"upgrade")
    os.chmod(target + ".new", 0o755)
    os.rename(target + ".new", target)
    before = snapshot(target)
    r = env.hp("commit", bid)
    expect(f"commit {bid} (upgraded): superseded:" in r.stdout, f"superseded: {r.stdout}")
    expect("replaced since" in r.stdout, f"the reason says why: {r.stdout}")
    expect_eq(snapshot(target), before, "a superseded file is left alone")
    expect_eq(state(env, bid), "superseded", "status of a superseded patch")
    expect(not os.path.exists(os.path.join(env.root, "var/lib/hotpatch/backups", bid)),
           "no backup of a file that was not replaced")
    expect(("commit", "superseded", bid) in audit_ops(env), "the audit log has it")


def upgraded_after_commit(env, key):
    tree = build_tree(env, "later")
    target = os.path.join(tree, "server")
    bundle = diff_bundle(env, tree, key, name="later")
    bid = env.bundle_id(bundle)
    env.hp("commit", bundle)
    expect_eq(state(env, bid), "committed", "committed")
    with open(target, "rb") as f:
        data = f.read()
    with open(target + ".new", "wb") as f:
        f.write(data + b"upgrade")
    os.rename(target + ".new", target)
    before = snapshot(target)
    expect_eq(state(env, bid), "superseded", "status sees the file replaced after the commit")
    r = env.hp("rollback", bid, "--no-apply")
    expect("superseded" in r.stdout, f"rollback of a replaced file: {r.stdout}")
    expect_eq(snapshot(target), before, "rollback leaves the upgraded file alone")


def refused(env, bundle, target, why, bid=None):
    before = snapshot(target)
    bid = bid or env.bundle_id(bundle)
    r = env.hp("commit", bundle, check=False)
    expect_eq(r.returncode, 2, f"{why}: exit code ({r.stdout}{r.stderr})")
    expect_eq(snapshot(target), before, f"{why}: the file is untouched")
    expect_eq(temp_files(os.path.dirname(target)), [], f"{why}: no temp file left")
    expect(not os.path.exists(os.path.join(env.root, "var/lib/hotpatch/backups", bid)),
           f"{why}: no backup made")
    return r


def tampered(env, key):
    tree = build_tree(env, "tampered")
    target = os.path.join(tree, "server")
    good = open(diff_bundle(env, tree, None, name="good"), "rb").read()
    fix2 = env.write("fix2.patch", open(os.path.join(CASE, "fix.patch")).read()
                     .replace("n > 64", "n > 32"))
    other = open(diff_bundle(env, tree, None, name="other", patch=fix2), "rb").read()
    update = bytearray(sections(good)[SEC_FILE_UPDATE])
    # Not a single bit: zstd ignores some (padding, unused table bits), and
    # a payload that still decodes to exactly the promised file is no harm.
    for i in range(len(update) // 2, len(update) // 2 + 32):
        update[i] ^= 0xff

    cases = {
        "a damaged fixed file": {SEC_FILE_UPDATE: bytes(update)},
        "another fix's fixed file": {SEC_FILE_UPDATE: sections(other)[SEC_FILE_UPDATE]},
    }
    for n, (why, replace) in enumerate(cases.items()):
        path = env.write(f"resealed{n}.hpb", "")
        with open(path, "wb") as f:
            f.write(reseal(good, replace))
        env.hp("sign", path, "-k", key)  # signed by a trusted key all the same
        r = refused(env, path, target, why)
        print(why, "->", r.stdout.strip())
        expect("fixed file" in r.stdout and "refus" in r.stdout.lower(),
               f"{why}: the refusal names the fixed file: {r.stdout}")
        expect(("commit", "refused", env.bundle_id(path)) in audit_ops(env),
               f"{why}: audited")

    # A stored bundle changed after it was signed.
    path = env.write("signed.hpb", "")
    with open(path, "wb") as f:
        f.write(good)
    env.hp("sign", path, "-k", key)
    bid = env.bundle_id(path)
    env.hp("install", path)
    stored_path = os.path.join(env.root, "var/lib/hotpatch/bundles", bid + ".hpb")
    data = bytearray(open(stored_path, "rb").read())
    off = data.find(sections(good)[SEC_FILE_UPDATE])
    data[off + 10] ^= 1
    open(stored_path, "wb").write(data)
    r = refused(env, bid, target, "a stored bundle changed after signing", bid=bid)
    expect("signature" in r.stderr or "corrupt" in r.stderr,
           f"refused for its signature or checksum: {r.stderr}")


def live_only(env, key):
    exe = unique_copy(env, "victim")
    bundle = env.build(exe, FIX_CHECK_LEN, name="source")
    env.hp("sign", bundle, "-k", key)
    bid = env.bundle_id(bundle)
    v = env.victim(exe)
    r = env.hp("apply", bundle, "--pid", v.pid)
    expect("staged" not in r.stdout, f"a patch-source bundle is not staged: {r.stdout}")
    expect_eq(state(env, bid), "live-only", "status of a patch-source bundle")
    before = snapshot(exe)
    r = env.hp("commit", bid, check=False)
    expect_eq(r.returncode, 2, f"commit of a live-only bundle: {r.stdout}{r.stderr}")
    expect("live-only" in r.stdout, f"it says live-only: {r.stdout}")
    expect_eq(snapshot(exe), before, "untouched")


def policies(env, key):
    # immediately: the apply commits.
    set_policy(env, "immediately")
    tree = build_tree(env, "immediate")
    bundle = diff_bundle(env, tree, key, name="immediate")
    bid = env.bundle_id(bundle)
    v = env.victim(os.path.join(tree, "server"))
    before = sha256(os.path.join(tree, "server"))
    r = env.hp("apply", bundle, "--pid", v.pid)
    expect(f"commit {bid} (immediate): committed" in r.stdout, f"apply commits: {r.stdout}")
    expect(sha256(os.path.join(tree, "server")) != before, "the file was replaced")
    expect_eq(state(env, bid), "committed", "immediately: committed")

    # never: nothing is staged, and --staged does nothing.
    set_policy(env, "never")
    tree = build_tree(env, "never")
    bundle = diff_bundle(env, tree, key, name="never")
    bid = env.bundle_id(bundle)
    v = env.victim(os.path.join(tree, "server"))
    before = sha256(os.path.join(tree, "server"))
    r = env.hp("apply", bundle, "--pid", v.pid)
    expect("staged" not in r.stdout, f"never: not staged: {r.stdout}")
    expect_eq(state(env, bid), "applied", "never: applied, not staged")
    r = env.hp("commit", "--staged")
    expect("policy is `never`" in r.stdout, f"--staged under never: {r.stdout}")
    expect_eq(sha256(os.path.join(tree, "server")), before, "never: the file stays")

    # at-boot: apply stages, revert --all withdraws it; unsigned never stages.
    set_policy(env, "at-boot")
    tree = build_tree(env, "atboot")
    bundle = diff_bundle(env, tree, key, name="atboot")
    bid = env.bundle_id(bundle)
    v = env.victim(os.path.join(tree, "server"))
    env.hp("apply", bundle, "--all")
    expect_eq(state(env, bid), "staged", "at-boot: staged")
    r = env.hp("revert", bid, "--all")
    expect(f"{bid} is no longer staged" in r.stdout, f"revert --all unstages: {r.stdout}")
    expect_eq(state(env, bid), "installed", "after revert --all")
    unsigned = diff_bundle(env, tree, None, name="unsigned")
    r = env.hp("apply", unsigned, "--pid", v.pid, "--insecure")
    expect("not staged for commit: the bundle is unsigned" in r.stdout, f"unsigned: {r.stdout}")
    expect_eq(state(env, env.bundle_id(unsigned)), "applied", "unsigned: applied only")


def test(env):
    key = trust_key(env)
    superseded(env, key)
    upgraded_after_commit(env, key)
    tampered(env, key)
    live_only(env, key)
    policies(env, key)
    env.hp("audit", "verify")


if __name__ == "__main__":
    main(test)
