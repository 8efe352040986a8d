# SPDX-License-Identifier: MIT
"""The tool under valgrind (memcheck) for one apply/revert cycle against a
real multi-threaded victim, and for the read-only commands around it: no
invalid access, no use of uninitialised memory, no leak ("definitely" or
"indirectly" lost), and the victim answers exactly as patched, then as
before. Uses a copy of the tool built without sanitizers (valgrind cannot
run a sanitized one)."""
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "../lib"))
from hptest import (FIX_CHECK_LEN, Failure, expect, expect_eq, fixture, main,  # noqa: E402
                    signed_bundle, trust_key)

PLAIN = os.environ.get("HOTPATCH_PLAIN")
VALGRIND = ["valgrind", "--tool=memcheck", "--error-exitcode=99", "--leak-check=full",
            "--errors-for-leak-kinds=definite,indirect", "--track-origins=yes", "-q"]


def under_valgrind(env, *args):
    cmd = VALGRIND + [PLAIN, "--root", env.root, *map(str, args)]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=300,
                       env=dict(os.environ, HOTPATCH_BOOST_GRACE_US="0"))
    if r.returncode != 0:
        raise Failure(f"valgrind: hotpatch {' '.join(map(str, args))} exited {r.returncode}:"
                      f"\n{r.stderr[-4000:]}")
    return r.stdout


def test(env):
    expect(PLAIN and os.path.exists(PLAIN), f"the unsanitized tool is built: {PLAIN}")
    key = trust_key(env)
    # Applied with --pid only, so the fixture's own build is fine.
    bundle = signed_bundle(env, fixture("victim"), FIX_CHECK_LEN, key)
    pid_id = env.bundle_id(bundle)
    v = env.victim("victim", 8)
    expect_eq(v.call(100), 100, "victim before")

    under_valgrind(env, "info", bundle)
    under_valgrind(env, "install", bundle)
    under_valgrind(env, "apply", pid_id, "--pid", v.pid)
    expect_eq(v.call(100), -1, "victim patched (apply under valgrind)")
    out = under_valgrind(env, "status", "--pid", v.pid, "--json")
    expect(pid_id in out, f"status under valgrind shows the patch: {out}")
    under_valgrind(env, "revert", pid_id, "--pid", v.pid)
    expect_eq(v.call(100), 100, "victim reverted (revert under valgrind)")
    under_valgrind(env, "audit", "verify")
    expect(v.alive(), "victim alive")


if __name__ == "__main__":
    main(test)
