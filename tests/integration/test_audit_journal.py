#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Audit records go to the journal natively, not as syslog text: each with a
MESSAGE_ID per kind (apply, revert, install, ...), PRIORITY by result
(notice when done, warning when refused), the authpriv facility, and the
fields HOTPATCH_PATCH_ID=, HOTPATCH_CVE=, HOTPATCH_PID= and
HOTPATCH_RESULT=, so `journalctl HOTPATCH_CVE=...` finds who patched what.
The journal is a socket at /run/systemd/journal/socket in a private mount
namespace of this test, read with the native protocol
(test_daemon_journal.py's)."""
import sys, os
sys.path.insert(0, os.path.dirname(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "../lib"))
from hptest import *  # noqa: E402,F403
from test_daemon_journal import Journal, private_run  # noqa: E402

ID_APPLY = "2f6c1a0e8d5b4c7f9a3e6b1d0c4f8a27"
ID_REVERT = "9b3d7e21c6a84f0b8e5d2a9c7f1b3e64"
ID_INSTALL = "c41e8f6a2b9d4e7c8a1f5b3d9e0c6a72"


def test(env):
    v = env.victim("victim")
    key = trust_key(env)
    bundle = signed_bundle(env, fixture("victim"), FIX_CHECK_LEN, key)
    bid = env.bundle_id(bundle)
    unsigned = env.build(fixture("victim"), FIX_CHECK_LEN, name="unsigned")
    private_run()
    journal = Journal()

    env.hp("apply", bundle, "--pid", v.pid)
    env.hp("revert", bid, "--pid", v.pid)
    expect_eq(env.hp("install", unsigned, check=False).returncode, 2, "unsigned install")

    applied = journal.find(ID_APPLY)
    expect_eq(len(applied), 1, "one apply entry")
    ev = applied[0]
    for k, want in [("PRIORITY", "5"), ("SYSLOG_FACILITY", "10"),
                    ("SYSLOG_IDENTIFIER", "hotpatch"), ("HOTPATCH_PATCH_ID", bid),
                    ("HOTPATCH_PID", str(v.pid)), ("HOTPATCH_RESULT", "patched")]:
        expect_eq(ev.get(k), want, k)
    expect_eq([x for k, x in ev["_all"] if k == "HOTPATCH_CVE"], ["CVE-2099-0001"],
              "HOTPATCH_CVE")
    expect(ev["MESSAGE"].startswith(f"apply patched patch={bid} pid={v.pid}"), ev["MESSAGE"])
    expect_eq([e["HOTPATCH_RESULT"] for e in journal.find(ID_REVERT)], ["reverted"], "revert")
    refused = journal.find(ID_INSTALL)
    expect_eq([(e["HOTPATCH_RESULT"], e["PRIORITY"]) for e in refused], [("refused", "4")],
              "a refusal is a warning")


main(test)
