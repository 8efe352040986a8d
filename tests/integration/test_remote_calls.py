#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The borrowed thread between two remote calls (remote.c, issue 19): when
the guard frame is armed and resumes the thread exactly (its own call is not
one the kernel would continue), the thread waits in its syscall-exit stop
with the tool's registers and gets its own back once, after the last call,
instead of after each: one interrupt stop, not one per call; and the
waits' deadline timer is armed once for them all. Counted with strace. A tool killed between two calls (the fault point `load-mapped`)
leaves the thread to the frame: the target lives on, the borrowed thread is
back in its own call, and the next apply converges."""
import re
import signal
import sys, os
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "../lib"))
from hptest import *

DEBUG = {"HOTPATCH_DEBUG": "1"}
SYS_PAUSE = 34


def own_call(pid, tid):
    with open(f"/proc/{pid}/task/{tid}/syscall") as f:
        return f.read().split()[0]


def test(env):
    bundle = env.build(fixture("victim"), FIX_CHECK_LEN)
    bid = env.bundle_id(bundle)
    # The main thread answers; the helper, in pause() (restarted exactly by
    # the frame), has used the least CPU and is borrowed.
    v = env.victim("victim", "--sleepers", 1)
    for _ in range(200):
        v.call(10)

    r, trace = hp_strace(env, "ptrace,timer_settime", "apply", bundle, "--pid", v.pid,
                         "--insecure", env_vars=DEBUG)
    expect_eq(r.returncode, 0, r.stderr)
    err = r.stderr
    tid = borrowed_thread(err)
    expect(tid != v.pid, f"the helper is borrowed ({tid})")
    expect("remote calls unguarded" not in err, f"the guard is armed:\n{err}")
    calls = len(re.findall(rf"PTRACE_SYSCALL, {tid}\b", trace)) // 2
    interrupts = len(re.findall(rf"PTRACE_INTERRUPT, {tid}\b", trace))
    expect(calls >= 5, f"the load made its calls through thread {tid} ({calls})")
    # One to borrow it, one to give it its registers back after the last
    # call, one for the flip's stop of every thread.
    expect(interrupts <= 3, f"{interrupts} interrupts of the borrowed thread for {calls} calls "
                            f"(one per call before)")
    # The wait's deadline timer is armed once for all of the load's waits
    # (deadline_hold()), not armed and disarmed around each (two per wait).
    timers = trace.count("timer_settime(")
    expect(timers <= 6, f"{timers} timer_settime calls for {calls} calls (four per call before)")
    expect_eq(v.call(100), -1, "patched")
    expect_eq(own_call(v.pid, tid), str(SYS_PAUSE), "the helper is back in pause()")
    env.hp("revert", bid, "--pid", v.pid)
    expect_eq(v.call(100), 100, "reverted")

    # Killed between two calls of the load: the thread is in its
    # syscall-exit stop with the tool's registers; the frame resumes it.
    r = env.hp("apply", bundle, "--pid", v.pid, "--insecure",
               env_vars={"HOTPATCH_FAULT": "load-mapped", **DEBUG}, check=False)
    expect_eq(r.returncode, -signal.SIGKILL, f"the tool killed itself ({r.stderr})")
    expect_eq(borrowed_thread(r.stderr), tid, "the same helper was borrowed")
    expect("remote calls unguarded" not in r.stderr, f"the guard was armed:\n{r.stderr}")
    wait_for(lambda: own_call(v.pid, tid) == str(SYS_PAUSE), what="the helper back in pause()")
    expect(consistent(env, v, "load-mapped") is False, "the target runs its own code")
    r = env.hp_json("apply", bundle, "--pid", v.pid, "--insecure")["processes"][0]
    expect_eq(r["result"], "patched", f"the next apply converges: {r}")
    expect_eq(v.call(100), -1, "patched")
    env.hp("revert", bid, "--pid", v.pid)
    expect_eq(v.maps_objects(), [], "nothing left mapped after the revert")
    expect(v.alive(), "the target lives")


main(test)
