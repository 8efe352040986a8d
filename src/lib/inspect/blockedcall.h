/* SPDX-License-Identifier: MIT */
/*
 * The system call a thread is blocked in, read from the outside before it is
 * stopped (/proc/PID/task/TID/syscall), and whether a signal waits for it.
 *
 * arm64 needs both to make a call again that our stop woke with a plain
 * EINTR: by the time the stop is reported its kernel has overwritten the
 * first argument (x0) with the result and forgotten the call, where x86-64
 * keeps both (orig_rax). A call that a real signal interrupted must return
 * its EINTR, hence the pending signals.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct blocked_call {
	long nr;
	uint64_t args[6];
	uint64_t pc; /* after the call's instruction */
};

/* 0 with @ret filled when thread @tid is blocked in a system call; -EAGAIN
 * when it runs or is in none; another negative errno if unreadable. */
int blocked_call_read(pid_t tid, struct blocked_call *ret);
/* Has thread @tid a signal pending (its own or its process's) that it does
 * not block? True when it cannot be told. */
bool blocked_signal_pending(pid_t tid);
