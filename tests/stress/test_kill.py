#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""SIGKILL of the tool at any instant never hurts the target.

First at the two instants where the tool lends the target's threads
something of its own: inside a remote system call (the borrowed thread holds
the tool's registers: the guard frame must bring it back, guard.h), and
while threads inside a changed function are let run out of it (no trap may
be left armed). Then at random instants of apply and revert on a target with
64 threads, busy and blocked: every time the target is alive, its code is
original or completely patched, `status` says which, and its blocked threads
never saw EINTR. HP_STRESS_LONG=1 (scripts/test.sh --long) runs 200 random
kills on a loaded host instead of 30."""
import os
import random
import signal
import subprocess
import sys
import time
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "../lib"))
from hptest import *

LONG = os.environ.get("HP_STRESS_LONG") == "1"


def converge(env, v, bundle, bid, patched):
    """A plain run after the kill finishes the job either way."""
    if patched:
        env.hp("revert", bid, "--pid", v.pid)
    else:
        env.hp("apply", bundle, "--pid", v.pid, "--insecure")
        env.hp("revert", bid, "--pid", v.pid)
    expect_eq(v.maps_objects(), [], "nothing left mapped after a clean revert")


def kill_at_point(env, v, bundle, bid, op, point, tries=1):
    """Run @op with the tool killing itself at @point; True once it did."""
    args = ["apply", bundle, "--insecure"] if op == "apply" else ["revert", bid]
    for _ in range(tries):
        if op == "revert" and status_state(env, v) != "applied":
            env.hp("apply", bundle, "--pid", v.pid, "--insecure")
        r = env.hp(*args, "--pid", v.pid, env_vars={"HOTPATCH_FAULT": point}, check=False)
        if r.returncode == -signal.SIGKILL:
            return True
        expect_eq(r.returncode, 0, f"{op} {point}: ran to the end without the kill: {r.stderr}")
    return False


def at_points(env, bundle, bid):
    v = env.victim("victim", "--hot", 2, "--blockers")
    for op in ("apply", "revert"):
        for n in range(3):
            print(op, "killed inside a remote call", n, flush=True)
            expect(kill_at_point(env, v, bundle, bid, op, "remote-in-call"),
                   f"{op}: the tool reached a remote call")
            converge(env, v, bundle, bid, consistent(env, v, f"{op} remote-in-call"))
    expect_eq(v.stats()["eintr"], "0", "no EINTR after kills inside remote calls")
    v.kill()

    # Many threads hammering the function: some are inside it at the stop.
    # (Applying, they are mostly stopped on its `ret`, which is emulated, so
    # they seldom have to run: reverting, they are in the patch's body.)
    v = env.victim("victim", "--hot", 16)
    for op in ("apply", "revert"):
        print(op, "killed while threads run out of the function", flush=True)
        if kill_at_point(env, v, bundle, bid, op, "evacuate-running", tries=20):
            converge(env, v, bundle, bid, consistent(env, v, f"{op} evacuate-running"))
        else:
            expect(op == "apply", f"{op}: some thread had to be let run out in 20 tries")
    v.kill()


def busy_host(n):
    """Busy loops that compete with the tool and the target for the CPUs."""
    return [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(n)]


def at_random(env, bundle, bid, kills, max_delay):
    # 64 threads: 32 in a hot loop, 3 blocked in read/nanosleep/futex, 28 in pause().
    v = env.victim("victim", "--hot", 32, "--blockers", "--sleepers", 28)
    landed = 0
    for i in range(kills):
        op = "revert" if status_state(env, v) == "applied" else "apply"
        args = ["apply", bundle, "--insecure"] if op == "apply" else ["revert", bid]
        tool = subprocess.Popen([HOTPATCH, "--root", env.root, *args, "--pid", str(v.pid)],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(random.uniform(0, max_delay))
        tool.kill()
        tool.wait()
        landed += tool.returncode == -signal.SIGKILL
        consistent(env, v, f"kill {i} during {op}")
    print(f"{kills} kills, {landed} inside an operation", flush=True)
    expect(landed >= kills // 4, f"most kills land inside an operation ({landed} of {kills})")
    expect_eq(v.stats()["eintr"], "0", "no EINTR in the blocked threads")
    v.kill()


def test(env):
    bundle = env.build(fixture("victim"), FIX_CHECK_LEN)
    bid = env.bundle_id(bundle)
    at_points(env, bundle, bid)
    if LONG:
        hogs = busy_host(4)
        try:
            at_random(env, bundle, bid, 200, 0.3)
        finally:
            for h in hogs:
                h.kill()
    else:
        at_random(env, bundle, bid, 30, 0.06)


main(test)
