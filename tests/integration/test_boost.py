#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The priority-assisted stop on a loaded host (CPU hogs, busy threads):
every thread's scheduling attributes are exactly what they were after apply
and after revert (nice 5, SCHED_BATCH, SCHED_IDLE, SCHED_FIFO 10, SCHED_RR,
reset-on-fork); without CAP_SYS_NICE the patch still applies and the report
says the boost was refused; and if the tool is killed while threads are
boosted, the guardian puts them back within a second."""
import signal
import subprocess
import time
import sys, os
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "../lib"))
from hptest import *

# Boost every thread that has not stopped the instant it was interrupted.
GRACE0 = {"HOTPATCH_BOOST_GRACE_US": "0"}
RESET_ON_FORK = 0x40000000


def attrs(pid):
    """{tid: (policy with reset-on-fork bit, priority, nice)} of every thread."""
    out = {}
    for tid in map(int, os.listdir(f"/proc/{pid}/task")):
        try:
            out[tid] = (os.sched_getscheduler(tid), os.sched_getparam(tid).sched_priority,
                        os.getpriority(os.PRIO_PROCESS, tid))
        except OSError:
            pass
    return out


def any_boosted(pid, before):
    """A thread running SCHED_FIFO priority 1 that was not before."""
    now = attrs(pid)
    return [t for t, a in now.items() if a[0] & ~RESET_ON_FORK == os.SCHED_FIFO and a[1] == 1
            and before.get(t) != a]


def hogs(env, n):
    ps = [subprocess.Popen(["python3", "-c", "while True: pass"]) for _ in range(n)]
    env.procs.extend(ps)
    return ps


def test(env):
    exe = fixture("victim")
    bundle = env.build(exe, FIX_CHECK_LEN)
    bid = env.bundle_id(bundle)
    hogs(env, 2 * os.cpu_count())
    v = env.victim("victim", "--sched", "--hot", 4)
    time.sleep(0.3)
    before = attrs(v.pid)
    kinds = sorted({(a[0], a[1], a[2]) for a in before.values()})
    for want in [(os.SCHED_OTHER, 0, 5), (os.SCHED_BATCH, 0, 0), (os.SCHED_IDLE, 0, 0),
                 (os.SCHED_FIFO, 10, 0), (os.SCHED_RR, 5, 0),
                 (os.SCHED_OTHER | RESET_ON_FORK, 0, 0)]:
        expect(want in kinds, f"the victim runs a thread with {want}: {kinds}")

    used = 0
    for cycle in range(10):
        r = env.hp_json("apply", bundle, "--pid", v.pid, "--insecure", env_vars=GRACE0)
        r = r["processes"][0]
        expect_eq(r["result"], "patched", f"cycle {cycle}")
        used += r["boost"] == "used"
        expect_eq(attrs(v.pid), before, f"cycle {cycle}: attributes after apply")
        r = env.hp_json("revert", bid, "--pid", v.pid, env_vars=GRACE0)["processes"][0]
        expect_eq(r["result"], "reverted", f"cycle {cycle}: revert")
        expect_eq(attrs(v.pid), before, f"cycle {cycle}: attributes after revert")
    expect(used > 0, "the boost was used at least once on the loaded host")
    print(f"boost used in {used} of 10 applies")

    # Without CAP_SYS_NICE: no boost, still patched, and said so.
    r = subprocess.run(["setpriv", "--inh-caps=-sys_nice", "--bounding-set=-sys_nice",
                        HOTPATCH, "--root", env.root, "apply", bundle, "--pid", str(v.pid),
                        "--insecure", "--json"], capture_output=True, text=True,
                       env={**os.environ, **GRACE0})
    r = json.loads(r.stdout)["processes"][0]
    expect_eq(r["result"], "patched", "patched without CAP_SYS_NICE")
    expect_eq((r["boost"], r["boosted"]), ("refused", False), "the report says no boost")
    env.hp("revert", bid, "--pid", v.pid)
    r = env.hp_json("apply", bundle, "--pid", v.pid, "--insecure", "--no-boost")["processes"][0]
    expect_eq(r["boost"], "off", "--no-boost")
    env.hp("revert", bid, "--pid", v.pid)
    os.makedirs(os.path.join(env.root, "etc/hotpatch"), exist_ok=True)
    open(os.path.join(env.root, "etc/hotpatch/hotpatch.conf"), "w").write("boost = no\n")
    r = env.hp_json("apply", bundle, "--pid", v.pid, "--insecure")["processes"][0]
    expect_eq(r["boost"], "off", "boost = no in hotpatch.conf")
    env.hp("revert", bid, "--pid", v.pid)
    os.unlink(os.path.join(env.root, "etc/hotpatch/hotpatch.conf"))

    # Killed while threads are boosted: the guardian restores them.
    killed = 0
    for attempt in range(20):
        r = env.hp("apply", bundle, "--pid", v.pid, "--insecure",
                   env_vars={**GRACE0, "HOTPATCH_FAULT": "stop-boosted"}, check=False)
        if r.returncode != -signal.SIGKILL:
            env.hp("revert", bid, "--pid", v.pid)  # no thread needed a boost this time
            continue
        killed += 1
        deadline = time.time() + 1.0
        while any_boosted(v.pid, before) and time.time() < deadline:
            time.sleep(0.01)
        expect_eq(any_boosted(v.pid, before), [], "no thread left real-time after 1 s")
        expect_eq(attrs(v.pid), before, "every attribute restored by the guardian")
        expect_eq(v.call(100), 100, "the target runs the original code")
        break
    expect(killed, "the tool was killed with boosted threads at least once")
    expect(v.alive(), "the target is alive")


main(test)
