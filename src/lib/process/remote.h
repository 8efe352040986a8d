/* SPDX-License-Identifier: MIT */
/*
 * Raw system calls executed by one thread of the target, and nothing else:
 * no code of ours ever runs in the target.
 *
 * One thread is seized and interrupted; its registers are saved. Each call
 * points the thread at an existing `syscall` instruction (in the vDSO) with
 * the arguments in registers, and runs it between a syscall-entry and a
 * syscall-exit stop.
 *
 * Restart semantics are kept exactly: if the thread was inside a system call
 * (orig_rax >= 0, rax = -ERESTART*), its registers are put back only while it
 * sits in a stop inside the kernel's signal handling (an interrupt stop or a
 * signal-delivery stop), never in a syscall-exit stop, so the kernel's own
 * restart logic runs on the way out and the thread never sees a spurious
 * EINTR. A signal that arrives meanwhile is delivered to the thread's real
 * context (registers restored first), then the call is retried.
 *
 * After each call the thread is put back into its own registers before
 * anything else happens, so a tool killed between two calls leaves the
 * thread exactly as found. A tool killed during a call's round trip leaves
 * a thread that returns to its own state through a signal frame (guard.h).
 *
 * Before each call, the thread's seccomp filters are run on it: a call that
 * would kill or trap the target is never made.
 */
#pragma once

#include <stdint.h>
#include <sys/types.h>

#include "guard.h"
#include "threads.h"

struct proc_maps;
struct seccomp_filters;

struct remote {
	pid_t pid;
	struct thread t;
	struct user_regs_struct saved;
	uint64_t syscall_addr;
	int64_t deadline_ns;
	int in_syscall_stop;
	unsigned ncalls;
	struct seccomp_filters *filters; /* the thread's, checked before each call */
	const struct proc_maps *maps;
	int memfd;
	struct guard guard; /* armed: a killed tool leaves the thread its own state */
};

int remote_attach(struct remote *rm, pid_t pid, int memfd, const struct proc_maps *maps,
		  int64_t deadline_ns);
/* Runs syscall @nr; the kernel's return value (a -errno on failure) goes to
 * @ret. Returns a negative errno only when the call could not be made. */
int remote_syscall(struct remote *rm, long nr, long a0, long a1, long a2, long a3, long a4,
		   long a5, long *ret);
/* Is the next call guarded (guard.h)? For reports and tests. */
static inline bool remote_guarded(const struct remote *rm)
{
	return rm->guard.armed;
}
/* Restores the thread exactly and detaches. Safe to call twice. */
int remote_detach(struct remote *rm);

/* remote_syscall() for a call that must succeed: a negative return becomes
 * an error naming @what (and a hint when seccomp may be the cause). */
int remote_call_ok(struct remote *rm, const char *what, long nr, long a0, long a1, long a2,
		   long a3, long a4, long a5, long *ret);

/* Passes @local_fd into the process (a socketpair made there, its one end
 * reached through pidfd_getfd, SCM_RIGHTS across it). @scratch: a writable
 * page of the target's, used for the call's arguments. The fd number in the
 * target goes to @ret_fd. */
int remote_receive_fd(struct remote *rm, int local_fd, uint64_t scratch, int memfd, long *ret_fd);
