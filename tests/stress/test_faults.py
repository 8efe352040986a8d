#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Fault injection: the tool SIGKILLs itself at every named step of apply and
revert (HOTPATCH_FAULT). After each kill, four things must hold: the target
is alive; it behaves either exactly as before or exactly as patched; `hotpatch
status` tells the truth about which; and a second apply or revert converges.
Then the same steps again, but the target exits while the tool is frozen
there (HOTPATCH_FAULT_ACTION=stop): the tool must finish with a clean line."""
import signal
import subprocess
import sys, os
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "../lib"))
from hptest import *

APPLY_POINTS = ["apply-start", "apply-seized", "load-mapped", "load-done", "flip-before-stop",
                "flip-stopped", "flip-written", "apply-done"]
# Reached only when a thread had to be boosted: tested in test_boost.py.
BOOST_POINTS = ["stop-boosted"]
# Inside one remote system call, and while threads run out of a changed
# function: tested with busy targets in test_kill.py.
KILL_POINTS = ["remote-in-call", "evacuate-running"]
REVERT_POINTS = ["revert-start", "flip-before-stop", "flip-stopped", "flip-written",
                 "revert-flipped", "revert-seized", "revert-done"]


def kill_at(env, point, *args):
    r = env.hp(*args, env_vars={"HOTPATCH_FAULT": point}, check=False)
    expect_eq(r.returncode, -signal.SIGKILL, f"{point}: the tool killed itself ({r.stderr})")


def test(env):
    exe = fixture("victim")
    bundle = env.build(exe, FIX_CHECK_LEN)
    bid = env.bundle_id(bundle)
    v = env.victim("victim", "--hot", 2, "--blockers")
    # commit's and rollback's points are walked by tests/integration/test_commit_faults.py,
    # the audit log's by test_audit_rotate.py.
    points = {p for p in env.hp("--fault-points").stdout.split()
              if not p.startswith(("commit-", "rollback-", "audit-"))}
    expect_eq(points, set(APPLY_POINTS) | set(REVERT_POINTS) | set(BOOST_POINTS) | set(KILL_POINTS),
              "the harnesses cover every point")

    for point in APPLY_POINTS:
        print("apply fault", point, flush=True)
        kill_at(env, point, "apply", bundle, "--pid", v.pid, "--insecure")
        consistent(env, v, point)
        r = env.hp_json("apply", bundle, "--pid", v.pid, "--insecure")["processes"][0]
        expect(r["result"] in ("patched", "already"), f"{point}: apply converges: {r}")
        expect(consistent(env, v, point), f"{point}: patched after the second apply")
        env.hp("revert", bid, "--pid", v.pid)
        expect_eq(v.maps_objects(), [], f"{point}: clean after revert")

    for point in REVERT_POINTS:
        print("revert fault", point, flush=True)
        env.hp("apply", bundle, "--pid", v.pid, "--insecure")
        kill_at(env, point, "revert", bid, "--pid", v.pid)
        consistent(env, v, point)
        r = env.hp_json("revert", bid, "--pid", v.pid)["processes"][0]
        expect(r["result"] in ("reverted", "skipped"), f"{point}: revert converges: {r}")
        expect(not consistent(env, v, point), f"{point}: original after the second revert")
        expect_eq(v.maps_objects(), [], f"{point}: nothing left mapped")
    expect_eq(v.stats()["eintr"], "0", "no EINTR through all of it")

    # The target exits while the tool is frozen at each step.
    for op, point in [("apply", p) for p in APPLY_POINTS] + [("revert", p) for p in REVERT_POINTS]:
        print("exit during", op, point, flush=True)
        t = env.victim("victim", "--hot", 1)
        if op == "revert":
            env.hp("apply", bundle, "--pid", t.pid, "--insecure")
        args = ["apply", bundle, "--insecure"] if op == "apply" else ["revert", bid]
        tool = subprocess.Popen([HOTPATCH, "--root", env.root, *args, "--pid", str(t.pid),
                                 "--json"], env={**os.environ, "HOTPATCH_FAULT": point,
                                                 "HOTPATCH_FAULT_ACTION": "stop"},
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        wait_for(lambda: open(f"/proc/{tool.pid}/stat").read().rsplit(")", 1)[1].split()[0]
                 == "T", what=f"{op} frozen at {point}")
        # Not t.kill(): that waits for the victim, and a killed thread that
        # is traced stays a zombie until its tracer, frozen now, reaps it.
        os.kill(t.pid, signal.SIGKILL)
        tool.send_signal(signal.SIGCONT)
        out, err = tool.communicate(timeout=60)
        t.proc.wait(timeout=30)
        expect(tool.returncode in (0, 1), f"{op}/{point}: tool exit {tool.returncode}: {err}")
        res = json.loads(out)["processes"][0]
        if res["result"] == "failed":
            expect("exited" in res["reason"], f"{op}/{point}: reason: {res['reason']}")
            expect("\n" not in res["reason"], "one line")


main(test)
