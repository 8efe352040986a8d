#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""A thread blocked in any call a server blocks in (epoll_wait, epoll_pwait,
epoll_pwait2, select, pselect6, poll, ppoll, accept, recv, read on a pipe
and on a socket, futex, nanosleep, clock_nanosleep, sigtimedwait,
io_uring_enter), plus threads in pause(), must never see a spurious EINTR
from being stopped, borrowed for system calls, and released, over many
apply/revert cycles. Several of these calls return a plain EINTR, not a
restart code, when stopped (epoll_wait, sigtimedwait, io_uring_enter): the
tool makes the kernel restart them (threads.h, thread_restartable())."""
import ctypes, signal, sys, os, threading, time
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "../lib"))
from hptest import *

SYS_tgkill = 234

CYCLES = 20


def eintr_by(v):
    return {k: int(n) for k, n in (kv.split("=") for kv in v.ask("eintr-by").split())}


def thread_named(pid, name):
    for tid in os.listdir(f"/proc/{pid}/task"):
        with open(f"/proc/{pid}/task/{tid}/comm") as f:
            if f.read().strip() == name:
                return int(tid)
    raise Failure(f"no thread {name} in {pid}")


def signaller(pid, tid, stop):
    """SIGUSR1 to one thread every millisecond or so, while the tool works."""
    libc = ctypes.CDLL(None, use_errno=True)
    while not stop.is_set():
        libc.syscall(SYS_tgkill, pid, tid, signal.SIGUSR1)
        time.sleep(0.001)


def test(env):
    v = env.victim("victim", "--waiters", "--sleepers", 4, "--signalled")
    stop = threading.Event()
    sender = threading.Thread(target=signaller,
                              args=(v.pid, thread_named(v.pid, "epoll-signal"), stop))
    sender.start()
    bundle = env.build(fixture("victim"), FIX_CHECK_LEN)
    bid = env.bundle_id(bundle)
    expect_eq(len(eintr_by(v)), 17, "one waiter per blocking call")
    for cycle in range(CYCLES):
        # Half the cycles without the priority boost: a different stop path.
        extra = ("--no-boost",) if cycle % 2 else ()
        env.hp("apply", bundle, "--pid", v.pid, "--insecure", *extra)
        expect_eq(v.call(100), -1, f"cycle {cycle}: patched")
        env.hp("revert", bid, "--pid", v.pid, *extra)
        expect_eq(v.call(100), 100, f"cycle {cycle}: reverted")
    stop.set()
    sender.join()
    seen = {k: n for k, n in eintr_by(v).items() if n}
    expect_eq(seen, {}, f"EINTR seen by blocked threads over {CYCLES} apply/revert cycles")
    st = v.stats()
    expect_eq(st["eintr"], "0", "EINTR seen by blocked threads")
    # A real signal still interrupts: one EINTR per handler run, no more, no less.
    expect(int(st["usr1"]) > 0, "the signalled thread took SIGUSR1")
    expect_eq(st["usr1_eintr"], st["usr1"], "EINTRs of the signalled epoll_pwait")


main(test)
