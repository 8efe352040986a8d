/* SPDX-License-Identifier: MIT */
/*
 * The threads of one target process under ptrace.
 *
 * Seizing (PTRACE_SEIZE) does not stop anything, so it happens before the
 * pause. The pause is threads_stop() ... threads_release(): PTRACE_INTERRUPT
 * to every thread, a wait for each stop, a re-read of /proc/PID/task until the
 * set is stable (a thread can only be created by a running thread), and,
 * after the caller's check and writes, a detach of every thread.
 *
 * Every stop is classified by its cause. A signal-delivery-stop keeps its
 * signal, which is handed back to the kernel at release (PTRACE_DETACH with
 * that signal), so no signal is ever lost or delivered twice. A thread of a
 * group-stopped (SIGSTOPped) process is detached without a signal and the
 * kernel puts it back into the group stop.
 *
 * Must be called from one OS thread: ptrace links a tracee to the thread that
 * seized it.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/ptrace.h>
#include <sys/types.h>
#include <sys/user.h>

#include "blockedcall.h"

#define THREADS_SEIZE_OPTIONS (PTRACE_O_TRACESYSGOOD | PTRACE_O_TRACEEXEC)

struct boost_slot;

struct thread {
	pid_t tid;
	struct boost_slot *boost; /* boosted until it stops */
	bool seized;
	bool stopped;
	bool gone;
	bool interrupt_pending; /* interrupted, stop not yet collected */
	bool group_stop;
	int sig; /* signal to give back at release */
	struct user_regs_struct regs;
	bool call_known; /* arm64: the call it was blocked in when interrupted */
	struct blocked_call call;
};

struct threads {
	pid_t pid;
	struct thread *v;
	size_t n;
	size_t cap;
	int64_t pause_start_ns;
	int64_t pause_end_ns;
	/* Set when an attempt timed out: the thread that did not stop. */
	pid_t laggard;
	char laggard_state;
	int boost;        /* enum boost_state of the last stop */
	size_t boosted;   /* threads boosted in the last stop */
};

struct stop_opts {
	bool boost;
	int64_t grace_ns; /* how long a thread may take before it is boosted */
};

/* Seize every thread of @pid (looping until the set is stable). Fails with a
 * clear message when the process is traced by someone else. */
int threads_seize(struct threads *ts, pid_t pid);
/* Stop every seized thread, then pick up threads created meanwhile; with
 * o->boost, threads still running after the grace period are boosted until
 * they stop (boost.h). On -ETIMEDOUT, the threads that did stop are
 * released again and ts->laggard names the one that did not. */
int threads_stop(struct threads *ts, int64_t deadline_ns, const struct stop_opts *o);
/* Detach every stopped thread, giving back pending signals. */
void threads_release(struct threads *ts);
/* Wait up to @ns while serving threads whose interrupt is still pending, so
 * a late stop is released at once instead of freezing the thread. */
void threads_idle(struct threads *ts, int64_t ns);
/* A thread stopped on its way out of a call that returns a plain EINTR when
 * merely stopped (epoll_wait, sigtimedwait, io_uring_enter, ...: rax is
 * -EINTR, orig_rax that call): turn the EINTR into -ERESTARTNOHAND in
 * @regs and return true. Once the registers are set back and the thread is
 * released from its stop (which is inside the kernel's signal handling),
 * the kernel decides as for pause(): a real signal whose handler runs still
 * gets EINTR; otherwise the call is made again (a finite timeout starts
 * over). Every place that releases a thread it stopped uses this.
 * arm64's registers at a stop no longer say which call returned EINTR
 * (arch.h, arch_syscall_nr()): there @t's call, noted by
 * thread_note_call() just before the stop, is made again by rewinding
 * @regs onto its `svc` (arch_syscall_rewind()), unless a signal it does not
 * block is pending, which may be what woke it and must then see the EINTR
 * (a signal arriving after the release comes before the call, as if it
 * had come just before the thread made it). */
bool thread_restartable(const struct thread *t, struct user_regs_struct *regs);
/* On arm64, note the call @t is blocked in (if any) just before it is
 * interrupted, for thread_restartable(); nothing on x86-64. */
void thread_note_call(struct thread *t);
/* Release what can be released and forget everything. */
void threads_free(struct threads *ts);

/* The one-line reason why PTRACE_SEIZE of @pid failed with @err. */
int threads_seize_error(pid_t pid, int err);
size_t threads_live(const struct threads *ts);
/* Collect a traced thread that has died, if it has. */
void thread_reap(pid_t tid);
/* Let every thread marked in @which run on its own for a moment, then stop
 * it again (an interrupt stop, registers read). This is how threads inside a
 * function being changed are moved out of it. No trap is ever armed: a
 * single step would leave the trap flag set if this tool died, and the
 * thread would die of SIGTRAP one instruction later; a thread merely
 * resumed runs on as if never stopped. A resumed thread may create threads:
 * call threads_restop() afterwards. A thread that got a signal keeps it for
 * release; one that blocked is collected later (interrupt_pending). Returns
 * how many threads ran and stopped again. */
size_t threads_run_briefly(struct threads *ts, const bool *which, int64_t deadline_ns);
/* After threads_run_briefly(): stop anything still running and any thread
 * created meanwhile, like threads_stop() but inside the same pause. */
int threads_restop(struct threads *ts, int64_t deadline_ns);
/* Wait for one stop of @t (any cause) until @deadline_ns. Returns 0 with
 * t->stopped or t->gone set, -ETIMEDOUT, or -ECHILD when the process
 * exec'd. @ret_status gets the raw wait status (may be NULL). */
int thread_wait(struct thread *t, int64_t deadline_ns, int *ret_status);
