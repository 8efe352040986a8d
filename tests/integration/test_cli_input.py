#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Bad input is refused with one line and exit 2 (issue 18 item 9): a pid
that names no process for apply, revert and status; an unknown argument to
doctor. `hotpatch help` is the usage, `hotpatch help CMD` a command's;
`disable` takes a patch's name as `revert` does."""
import sys, os
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "../lib"))
from hptest import *


def refused(r, what, says):
    expect_eq(r.returncode, 2, f"{what}: exit code")
    lines = r.stderr.strip().splitlines()
    expect(len(lines) == 1 and says in lines[0], f"{what}: one line saying {says!r}: {r.stderr}")


def gone_pid():
    """A pid no process has: a child that has been reaped."""
    import subprocess
    p = subprocess.Popen(["true"])
    p.wait()
    return p.pid


def test(env):
    bundle = env.build(fixture("victim"), FIX_CHECK_LEN)
    pid = gone_pid()
    refused(env.hp("apply", bundle, "--pid", pid, "--insecure", check=False), "apply",
            f"there is no process {pid}")
    refused(env.hp("revert", env.bundle_id(bundle), "--pid", pid, check=False), "revert",
            f"there is no process {pid}")
    refused(env.hp("status", "--pid", pid, check=False), "status", f"there is no process {pid}")
    refused(env.hp("status", "--pid", "x1", check=False), "status", "'x1' is not a process id")
    refused(env.hp("doctor", "--bogus", check=False), "doctor", "doctor takes no arguments")
    # With --json, a refusal is also a JSON object on standard output.
    import json
    for args in (("apply", bundle, "--pid", pid, "--insecure", "--json"),
                 ("status", "--pid", pid, "--json"), ("info", "/etc/passwd", "--json")):
        r = env.hp(*args, check=False)
        expect_eq(r.returncode, 2, f"{args[0]} --json refused")
        out = json.loads(r.stdout)
        expect(out["exit"] == 2 and out["error"] and "\n" not in out["error"],
               f"{args[0]} --json: {r.stdout}")
    # disable takes a patch name, as revert does. (enable without the daemon
    # applies --all: a copy with a build-id of its own keeps it to this test.)
    key = trust_key(env)
    own = unique_copy(env, "victim")
    signed = signed_bundle(env, own, FIX_CHECK_LEN, key, name="lenfix")
    sid = env.bundle_id(signed)
    env.hp("enable", signed)
    enabled = os.path.join(env.root, f"var/lib/hotpatch/state/enabled/{sid}")
    expect(os.path.exists(enabled), "enabled")
    r = env.hp("revert", sid, "--all", check=False)
    expect("is enabled: hotpatchd will apply it again" in r.stderr, r.stderr)
    env.hp("disable", "lenfix")
    expect(not os.path.exists(enabled), "disable by the patch's name")
    refused(env.hp("disable", "no-such-patch", check=False), "disable",
            "no patch id, patch name or bundle file 'no-such-patch'")

    # Not a bundle at all: said so, not "unsigned".
    refused(env.hp("install", "/etc/passwd", check=False), "install /etc/passwd",
            "not a hotpatch bundle")

    # Not root: status reads other processes, it changes none.
    import shutil, subprocess
    tool = os.path.join(env.dir, "hotpatch-copy")
    shutil.copy(HOTPATCH, tool)
    os.chmod(tool, 0o755)
    os.chmod(env.dir, 0o755)
    r = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", tool,
                        "--root", env.root, "status"], capture_output=True, text=True)
    refused(r, "status as nobody", "status needs root (CAP_SYS_PTRACE) to read other processes")
    # ... and an audit log it may not read is not a log that failed verification.
    for d in ("var", "var/log"):
        os.chmod(os.path.join(env.root, d), 0o755)
    r = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", tool,
                        "--root", env.root, "audit", "verify"], capture_output=True, text=True)
    refused(r, "audit verify as nobody", "cannot read the audit log")
    expect("FAILED" not in r.stderr, r.stderr)

    r = env.hp("help")
    expect("Usage: hotpatch" in r.stdout and "apply" in r.stdout, r.stdout)
    r = env.hp("help", "status")
    expect(r.stdout.startswith("Usage: hotpatch status"), r.stdout)
    # --help is an answer, not a failure, for every command (apply and
    # revert said exit 1 before the cli's one return convention).
    for cmd in ("apply", "revert", "status", "commit", "rollback", "package", "doctor"):
        r = env.hp(cmd, "--help")
        expect(r.returncode == 0 and "Usage: hotpatch" in r.stdout,
               f"{cmd} --help: exit {r.returncode}: {r.stdout}{r.stderr}")


main(test)
