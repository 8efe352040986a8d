#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The store and the audit trail: install verifies and copies a bundle,
apply takes a stored id (verifying the stored copy again), remove is refused
while the patch is applied anywhere; every action and refusal is one JSON
line in the audit log, and editing, removing or truncating lines is
detected by `hotpatch audit verify`."""
import sys, os
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "../lib"))
from hptest import *


def audit_lines(env):
    with open(os.path.join(env.root, "var/log/hotpatch/audit.log")) as f:
        return [json.loads(l) for l in f]


def test(env):
    v = env.victim("victim")
    key = trust_key(env)
    bundle = signed_bundle(env, fixture("victim"), FIX_CHECK_LEN, key)
    bid = env.bundle_id(bundle)

    unsigned = env.build(fixture("victim"), FIX_CHECK_LEN, name="unsigned")
    r = env.hp("install", unsigned, check=False)
    expect_eq(r.returncode, 2, "install of an unsigned bundle")

    r = env.hp("install", bundle)
    expect(f"installed {bid}" in r.stdout, r.stdout)
    stored = os.path.join(env.root, f"var/lib/hotpatch/bundles/{bid}.hpb")
    expect(os.path.exists(stored), "bundle in the store")
    expect_eq(os.stat(stored).st_mode & 0o022, 0, "stored bundle not writable by others")

    expect_eq(env.hp_json("apply", bid[:8], "--pid", v.pid)["processes"][0]["result"], "patched",
              "apply by (short) id")
    r = env.hp("remove", bid, check=False)
    expect_eq(r.returncode, 2, "remove while applied")
    expect(f"applied in 1 process (pid {v.pid})" in r.stderr, r.stderr)
    env.hp("revert", bid, "--pid", v.pid)

    # The stored copy is verified again each time it is used.
    data = bytearray(open(stored, "rb").read())
    data[100] ^= 0xff
    open(stored, "wb").write(data)
    r = env.hp("apply", bid, "--pid", v.pid, check=False)
    expect_eq(r.returncode, 2, "a tampered stored copy is refused")
    data[100] ^= 0xff
    open(stored, "wb").write(data)

    r = env.hp("remove", bid)
    expect(not os.path.exists(stored), "removed from the store")
    r = env.hp("apply", bid, "--pid", v.pid, check=False)
    expect_eq(r.returncode, 2, "apply of a removed id")

    log = audit_lines(env)
    ops = [(e["op"], e["result"]) for e in log]
    for want in [("install", "refused"), ("install", "ok"), ("apply", "patched"),
                 ("remove", "refused"), ("revert", "reverted"), ("apply", "refused"),
                 ("remove", "ok")]:
        expect(want in ops, f"audit has {want}: {ops}")
    applied = next(e for e in log if e["op"] == "apply" and e["result"] == "patched")
    for field in ("time", "uid", "patch", "cves", "pid", "module", "build_id", "prev"):
        expect(field in applied, f"audit entry has {field}: {applied}")
    expect_eq(applied["cves"], ["CVE-2099-0001"], "CVEs in the audit entry")
    expect_eq(applied["pid"], v.pid, "pid in the audit entry")

    path = os.path.join(env.root, "var/log/hotpatch/audit.log")
    r = env.hp("audit", "verify")
    expect(f"intact: {len(log)} entries" in r.stdout, r.stdout)
    text = open(path).read().splitlines(keepends=True)

    def verify_with(lines, what, needle):
        open(path, "w").write("".join(lines))
        r = env.hp("audit", "verify", check=False)
        expect_eq(r.returncode, 2, f"audit verify after {what}")
        expect(needle in r.stderr, f"{what}: {r.stderr}")

    verify_with(text[:2] + [text[2].replace('"uid":0', '"uid":1000')] + text[3:],
                "an edited line", "line 4 does not follow line 3")
    verify_with(text[:2] + text[3:], "a removed line", "line 3 does not follow line 2")
    verify_with(text[:-1], "truncation", "truncated")
    open(path, "w").write("".join(text))
    env.hp("audit", "verify")


main(test)
