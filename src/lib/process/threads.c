/* SPDX-License-Identifier: MIT */
#include "threads.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "arch.h"
#include "boost.h"
#include "clock.h"
#include "debug.h"
#include "fault.h"
#include "error.h"
#include "macro.h"
#include "procfs.h"

#define SEIZE_ROUNDS_MAX 1000
#define ERESTARTNOHAND 514 /* the kernel's, not in the uapi headers */
/* How long the first thread let run in threads_run_briefly() gets before
 * the first interrupt; each later one runs while its predecessor stops. */
#define RUN_SLICE_NS (5 * NSEC_PER_USEC)

static struct thread *threads_find(struct threads *ts, pid_t tid)
{
	for (size_t i = 0; i < ts->n; i++)
		if (ts->v[i].tid == tid)
			return &ts->v[i];
	return NULL;
}

static struct thread *threads_add(struct threads *ts, pid_t tid)
{
	if (ts->n == ts->cap) {
		size_t cap = ts->cap ? ts->cap * 2 : 16;
		struct thread *nv = realloc(ts->v, cap * sizeof(*nv));

		if (!nv)
			return NULL;
		ts->v = nv;
		ts->cap = cap;
	}
	ts->v[ts->n] = (struct thread){.tid = tid};
	return &ts->v[ts->n++];
}

int threads_seize_error(pid_t pid, int err)
{
	pid_t tracer = 0;

	/* An exiting thread refuses to be traced with EPERM too. */
	if (proc_exited(pid))
		return hp_err(-ESRCH, "process %d exited during the operation", pid);
	if (proc_tracer(pid, &tracer) == 0 && tracer == getpid())
		/* Ours already: the refusal came from a thread that is exiting
		 * (the process is being killed as we work). */
		return hp_err(-ESRCH, "process %d exited during the operation", pid);
	if (tracer > 0) {
		char comm[32];

		proc_comm(tracer, comm, sizeof(comm));
		return hp_err(-EBUSY, "process %d is already traced by process %d (%s); detach the "
				      "debugger or tracer and retry",
			      pid, tracer, comm);
	}
	if (err == EPERM)
		return hp_err(-EPERM, "not allowed to trace process %d; run as root (hotpatch "
				      "needs CAP_SYS_PTRACE) and check `hotpatch doctor`",
			      pid);
	return hp_err(-err, "cannot attach to process %d: %s", pid, strerror(err));
}

static int seize_one(struct threads *ts, pid_t tid)
{
	struct thread *t = threads_find(ts, tid);

	if (t && (t->seized || t->gone))
		return 0;
	if (!t) {
		t = threads_add(ts, tid);
		if (!t)
			return hp_err(-ENOMEM, "out of memory");
	}
	if (ptrace(PTRACE_SEIZE, tid, NULL, (void *)(long)THREADS_SEIZE_OPTIONS) < 0) {
		char st = proc_thread_state(ts->pid, tid);

		/* Exited between listing and seizing, or dying. */
		if (errno == ESRCH || st == 'Z' || st == 'X' || st == '?') {
			t->gone = true;
			return 0;
		}
		return threads_seize_error(ts->pid, errno);
	}
	t->seized = true;
	return 1;
}

/* Seize threads that appeared since the last listing; returns how many. */
static int seize_new(struct threads *ts)
{
	pid_t *tids = NULL;
	size_t n = 0;
	int r, added = 0;

	r = proc_tasks(ts->pid, &tids, &n);
	if (r < 0)
		return r;
	for (size_t i = 0; i < n; i++) {
		r = seize_one(ts, tids[i]);
		if (r < 0) {
			free(tids);
			return r;
		}
		added += r;
	}
	free(tids);
	if (n == 0)
		return hp_err(-ESRCH, "process %d has exited", ts->pid);
	return added;
}

int threads_seize(struct threads *ts, pid_t pid)
{
	ts->pid = pid;
	for (int round = 0; round < SEIZE_ROUNDS_MAX; round++) {
		int r = seize_new(ts);

		if (r <= 0)
			return r;
	}
	return hp_err(-EAGAIN, "process %d keeps creating threads faster than they can be "
			       "attached; retry",
		      pid);
}

size_t threads_live(const struct threads *ts)
{
	size_t n = 0;

	for (size_t i = 0; i < ts->n; i++)
		n += ts->v[i].seized && !ts->v[i].gone;
	return n;
}

static bool is_stop_signal(int sig)
{
	return sig == SIGSTOP || sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU;
}

static void classify_stop(struct thread *t, int status)
{
	int sig = WSTOPSIG(status), event = status >> 16;

	t->stopped = true;
	t->interrupt_pending = false;
	if (event == PTRACE_EVENT_STOP) {
		t->group_stop = is_stop_signal(sig);
		return;
	}
	if (event == 0 && sig != (SIGTRAP | 0x80))
		t->sig = sig; /* signal-delivery-stop: give it back at release */
}

/* What a wait status means for @t. */
static int take_status(struct thread *t, int status)
{
	if (WIFEXITED(status) || WIFSIGNALED(status)) {
		t->gone = true;
		t->seized = false;
		t->stopped = false;
		return 0;
	}
	if (WIFSTOPPED(status) && (status >> 16) == PTRACE_EVENT_EXEC) {
		t->stopped = true;
		return hp_err(-ECHILD, "process %d executed a new program during the operation; it "
				       "runs new code now and needs no rollback",
			      t->tid);
	}
	classify_stop(t, status);
	return 0;
}

int thread_wait(struct thread *t, int64_t deadline_ns, int *ret_status)
{
	int status, r;

	r = deadline_arm(deadline_ns);
	if (r < 0)
		return r;
	for (;;) {
		pid_t w = waitpid(t->tid, &status, __WALL);

		if (w == t->tid)
			break;
		if (w < 0 && errno == EINTR) {
			if (deadline_passed(deadline_ns)) {
				deadline_disarm();
				return -ETIMEDOUT;
			}
			continue;
		}
		deadline_disarm();
		/* Not our tracee any more: it is gone. */
		t->gone = true;
		t->seized = false;
		return 0;
	}
	deadline_disarm();
	if (ret_status)
		*ret_status = status;
	return take_status(t, status);
}

/* Like thread_wait() once its deadline has passed: no waiting at all. */
static int thread_poll(struct thread *t)
{
	int status;
	pid_t w = waitpid(t->tid, &status, __WALL | WNOHANG);

	if (w == 0)
		return -ETIMEDOUT;
	if (w != t->tid) {
		t->gone = true;
		t->seized = false;
		return 0;
	}
	return take_status(t, status);
}

static int interrupt_one(struct thread *t)
{
	if (!t->seized || t->gone || t->stopped || t->interrupt_pending)
		return 0;
	thread_note_call(t);
	if (ptrace(PTRACE_INTERRUPT, t->tid, NULL, NULL) < 0) {
		if (errno == ESRCH)
			return 0; /* exiting: the wait will see it */
		return hp_err(-errno, "cannot interrupt thread %d: %m", t->tid);
	}
	t->interrupt_pending = true;
	return 0;
}

/* The whole process died while we held its threads: each traced thread is
 * a zombie only we can reap (and its parent cannot reap the process until
 * we do). */
static int reap_dead_process(struct threads *ts)
{
	for (size_t i = 0; i < ts->n; i++)
		if (ts->v[i].seized) {
			thread_reap(ts->v[i].tid);
			ts->v[i].seized = false;
			ts->v[i].gone = true;
		}
	return hp_err(-ESRCH, "process %d exited during the operation", ts->pid);
}

/* 0 once @t stopped (or is gone), -ETIMEDOUT if not by @deadline_ns (which
 * may have passed: then it is only polled), or another negative errno. */
static int wait_one(struct thread *t, int64_t deadline_ns)
{
	int r;

	if (!t->seized || t->gone || t->stopped)
		return 0;
	r = deadline_passed(deadline_ns) ? thread_poll(t) : thread_wait(t, deadline_ns, NULL);
	if (r < 0)
		return r;
	if (t->stopped && arch_regs_get(t->tid, &t->regs) < 0)
		return hp_err(-errno, "cannot read the registers of thread %d: %m", t->tid);
	/* Stopped: it runs nothing now, its own priority comes back at once. */
	boost_restore(t->boost);
	t->boost = NULL;
	return 0;
}

/* Waits until @deadline_ns for every thread to stop; returns how many did
 * not. The leader last: a dead leader cannot be collected before the other
 * threads, and waiting for it first would be waiting for ourselves. */
static int wait_until(struct threads *ts, int64_t deadline_ns)
{
	int pending = 0;

	for (int leader = 0; leader <= 1; leader++)
		for (size_t i = 0; i < ts->n; i++) {
			int r;

			if ((ts->v[i].tid == ts->pid) != leader)
				continue;
			r = wait_one(&ts->v[i], deadline_ns);
			if (r == -ETIMEDOUT)
				pending++;
			else if (r < 0)
				return r;
		}
	return pending;
}

static void boost_laggards(struct threads *ts)
{
	for (size_t i = 0; i < ts->n && ts->boost != BOOST_REFUSED; i++) {
		struct thread *t = &ts->v[i];
		bool refused;

		if (!t->seized || t->gone || t->stopped || t->boost)
			continue;
		t->boost = boost_thread(t->tid, &refused);
		if (refused)
			ts->boost = BOOST_REFUSED;
		else if (t->boost) {
			ts->boost = BOOST_USED;
			ts->boosted++;
		}
	}
	if (ts->boosted)
		fault_point("stop-boosted");
}

static void unboost_all(struct threads *ts)
{
	for (size_t i = 0; i < ts->n; i++) {
		boost_restore(ts->v[i].boost);
		ts->v[i].boost = NULL;
	}
}

/* A thread still running at the deadline: is the process dying, or is the
 * thread stuck (uninterruptible sleep, a vfork parent)? */
static int stop_timed_out(struct threads *ts)
{
	if (proc_exited(ts->pid))
		return reap_dead_process(ts);
	for (size_t i = 0; i < ts->n; i++) {
		const struct thread *t = &ts->v[i];

		if (t->seized && !t->gone && !t->stopped) {
			ts->laggard = t->tid;
			ts->laggard_state = proc_thread_state(ts->pid, t->tid);
			break;
		}
	}
	return -ETIMEDOUT;
}

static int stop_round(struct threads *ts, int64_t deadline_ns, const struct stop_opts *o)
{
	int pending;

	for (size_t i = 0; i < ts->n; i++) {
		int r = interrupt_one(&ts->v[i]);

		if (r < 0)
			return r;
	}
	if (o && o->boost && ts->boost != BOOST_REFUSED) {
		pending = wait_until(ts, MIN(now_ns() + o->grace_ns, deadline_ns));
		if (pending < 0)
			return pending;
		if (pending)
			boost_laggards(ts);
	}
	pending = wait_until(ts, deadline_ns);
	if (pending < 0)
		return pending;
	return pending ? stop_timed_out(ts) : 0;
}

/* Stop rounds until every thread we know is stopped and no new one shows. */
static int stop_all(struct threads *ts, int64_t deadline_ns, const struct stop_opts *o)
{
	for (int round = 0; round < SEIZE_ROUNDS_MAX; round++) {
		int r = stop_round(ts, deadline_ns, o);

		if (r < 0)
			return r;
		/* Everyone we know is stopped, so no new thread can appear any
		 * more; one that was being created already shows in the list. */
		r = seize_new(ts);
		if (r < 0)
			return r;
		if (r == 0)
			return threads_live(ts) ? 0 : hp_err(-ESRCH, "process %d has exited", ts->pid);
	}
	return hp_err(-EAGAIN, "process %d keeps creating threads; retry", ts->pid);
}

int threads_stop(struct threads *ts, int64_t deadline_ns, const struct stop_opts *o)
{
	int r;

	ts->laggard = 0;
	ts->boosted = 0;
	ts->boost = o && o->boost ? BOOST_UNUSED : BOOST_OFF;
	ts->pause_start_ns = now_ns();
	/* Above the threads we may boost, for as long as the pause lasts. */
	if (o && o->boost && !boost_self_begin())
		ts->boost = BOOST_REFUSED;
	r = stop_all(ts, deadline_ns, o);
	if (r < 0)
		threads_release(ts);
	return r;
}

/* Resume @t with no signal; boosted on a busy host so that it runs at once
 * (its attributes come back as soon as it stops, in wait_one()). */
static bool resume_one(struct threads *ts, struct thread *t)
{
	bool refused;

	if (!t->seized || t->gone || !t->stopped)
		return false;
	if (ts->boost != BOOST_OFF && ts->boost != BOOST_REFUSED && !t->boost) {
		t->boost = boost_thread(t->tid, &refused);
		if (t->boost && ts->boost == BOOST_UNUSED)
			ts->boost = BOOST_USED;
	}
	if (ptrace(PTRACE_CONT, t->tid, NULL, NULL) < 0)
		return false;
	t->stopped = false;
	return true;
}

size_t threads_run_briefly(struct threads *ts, const bool *which, int64_t deadline_ns)
{
	size_t resumed = 0, stopped = 0;
	bool *ran = calloc(ts->n ? ts->n : 1, sizeof(bool));

	if (!ran)
		return 0;
	for (size_t i = 0; i < ts->n; i++)
		if (which[i] && resume_one(ts, &ts->v[i])) {
			ran[i] = true;
			resumed++;
		}
	if (!resumed) {
		free(ran);
		return 0;
	}
	fault_point("evacuate-running");
	sleep_spin_ns(RUN_SLICE_NS);
	/* One at a time, in the order they were woken: while one is being
	 * stopped, the next runs (at equal real-time priority a thread keeps
	 * its CPU until it stops), so each runs for about one stop's time. */
	for (size_t i = 0; i < ts->n; i++) {
		struct thread *t = &ts->v[i];

		if (!ran[i] || interrupt_one(t) < 0)
			continue;
		if (wait_one(t, deadline_ns) == 0 && t->stopped)
			stopped++;
	}
	free(ran);
	hp_err_clear();
	return stopped;
}

int threads_restop(struct threads *ts, int64_t deadline_ns)
{
	return stop_all(ts, deadline_ns, NULL);
}

void thread_reap(pid_t tid)
{
	int status;

	/* A traced thread that died stays a zombie until its tracer waits for
	 * it, and keeps its process from being reaped by its parent. */
	while (waitpid(tid, &status, __WALL | WNOHANG) < 0 && errno == EINTR)
		;
}

/* The calls that return a plain EINTR, not a restart code, when the thread
 * is woken by anything that is not a real signal, our PTRACE_INTERRUPT
 * included (the kernel never restarts them, SA_RESTART or not; measured in
 * test_no_eintr, once per stop). A plain EINTR from them means nothing was
 * done, so running them again is harmless. recvfrom/recvmsg/accept do it
 * only on a socket with SO_RCVTIMEO. Not connect (a second connect says
 * EALREADY) nor read/write (a device's EINTR may follow a side effect). */
static bool returns_plain_eintr(long nr)
{
	switch (nr) {
#ifdef SYS_epoll_wait /* not on arm64, which has only epoll_pwait */
	case SYS_epoll_wait:
#endif
	case SYS_epoll_pwait:
	case SYS_epoll_pwait2:
	case SYS_rt_sigtimedwait:
	case SYS_io_uring_enter:
	case SYS_io_getevents:
	case SYS_io_pgetevents:
	case SYS_semop:
	case SYS_semtimedop:
	case SYS_recvfrom:
	case SYS_recvmsg:
	case SYS_accept:
	case SYS_accept4:
		return true;
	default:
		return false;
	}
}

void thread_note_call(struct thread *t)
{
	if (ARCH_RESTART_BY_REWIND)
		t->call_known = blocked_call_read(t->tid, &t->call) == 0;
}

bool thread_restartable(const struct thread *t, struct user_regs_struct *regs)
{
	long nr = arch_syscall_nr(regs);

	/* arm64: not when a signal stopped it (it is being delivered, and
	 * may be what woke the call) or one is pending. */
	if (nr < 0)
		return t->call_known && !t->sig && returns_plain_eintr(t->call.nr) &&
		       !blocked_signal_pending(t->tid) &&
		       arch_syscall_rewind(regs, t->call.nr, t->call.args, t->call.pc);
	if (arch_syscall_ret(regs) != -EINTR || !returns_plain_eintr(nr))
		return false;
	arch_set_syscall_ret(regs, -ERESTARTNOHAND);
	return true;
}

static bool thread_dead(pid_t tid)
{
	char st = proc_thread_state(tid, tid);

	return st == '?' || st == 'Z' || st == 'X';
}

static void release_one(struct thread *t)
{
	if (t->seized && !t->stopped && !t->interrupt_pending && thread_dead(t->tid))
		thread_reap(t->tid);
	if (!t->seized || t->gone || !t->stopped)
		return;
	/* Our stop woke it from a call that would return EINTR: make it run
	 * the call again instead (a group stop's EINTR is the kernel's). */
	if (!t->group_stop && thread_restartable(t, &t->regs) &&
	    arch_regs_set(t->tid, &t->regs) < 0)
		hp_debug("thread %d: cannot restart its system call: %m", t->tid);
	/* A detached thread of a group-stopped process goes back into the
	 * group stop by itself; any other thread gets its signal back. */
	if (ptrace(PTRACE_DETACH, t->tid, NULL, (void *)(long)(t->group_stop ? 0 : t->sig)) < 0 &&
	    errno == ESRCH) {
		t->gone = true;
		thread_reap(t->tid);
	}
	t->seized = false;
	t->stopped = false;
	t->sig = 0;
	t->group_stop = false;
}

void threads_release(struct threads *ts)
{
	/* Every thread's own scheduling attributes are back before it runs. */
	unboost_all(ts);
	for (size_t i = 0; i < ts->n; i++)
		release_one(&ts->v[i]);
	ts->pause_end_ns = now_ns();
	boost_self_end();
}

void threads_idle(struct threads *ts, int64_t ns)
{
	int64_t deadline = now_ns() + ns;
	bool waited = false;

	for (size_t i = 0; i < ts->n; i++) {
		struct thread *t = &ts->v[i];

		if (!t->interrupt_pending || t->gone)
			continue;
		waited = true;
		if (thread_wait(t, deadline, NULL) == 0 &&
		    (!t->stopped || arch_regs_get(t->tid, &t->regs) == 0))
			release_one(t);
	}
	if (!waited)
		sleep_ns(deadline - now_ns());
}

void threads_free(struct threads *ts)
{
	threads_release(ts);
	/* Threads whose interrupt is still pending stay attached until they
	 * stop; give them a moment, then leave the rest to the kernel, which
	 * detaches them when this process exits: no trap is ever armed in them). */
	threads_idle(ts, 0);
	for (size_t i = 0; i < ts->n; i++)
		if (ts->v[i].seized && !ts->v[i].gone)
			hp_debug("pid %d: thread %d still attached at the end (pending %d)", ts->pid,
				 ts->v[i].tid, ts->v[i].interrupt_pending);
	free(ts->v);
	*ts = (struct threads){0};
}
