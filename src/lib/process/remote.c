/* SPDX-License-Identifier: MIT */
#include "remote.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "arch.h"
#include "clock.h"
#include "debug.h"
#include "error.h"
#include "fault.h"
#include "macro.h"
#include "procfs.h"
#include "seccomp.h"

#define SCAN_CHUNK 65536
#define RETRIES_MAX 64
#define BORROW_TRIES_MAX 8

static int scan_for_syscall(int memfd, const struct map_entry *e, uint64_t *ret)
{
	_cleanup_free_ uint8_t *buf = malloc(SCAN_CHUNK);

	if (!buf)
		return -ENOMEM;
	/* Chunks overlap by one instruction less one byte: none is missed. */
	for (uint64_t at = e->start; at < e->end; at += SCAN_CHUNK - (arch_syscall_insn_len - 1)) {
		size_t len = MIN(SCAN_CHUNK, e->end - at);

		if (proc_mem_read(memfd, at, buf, len) < 0)
			return -EIO;
		for (size_t i = 0; i + arch_syscall_insn_len <= len; i++)
			if ((at + i) % arch_insn_align == 0 &&
			    memcmp(buf + i, arch_syscall_insn, arch_syscall_insn_len) == 0) {
				*ret = at + i;
				return 0;
			}
	}
	return -ENOENT;
}

/* Any `syscall` instruction will do; the vDSO has one (its fallbacks) in every
 * process, otherwise use any mapped code. */
static int find_syscall_insn(int memfd, const struct proc_maps *maps, uint64_t *ret)
{
	for (size_t i = 0; i < maps->n; i++)
		if (maps->v[i].path && strcmp(maps->v[i].path, "[vdso]") == 0 &&
		    scan_for_syscall(memfd, &maps->v[i], ret) == 0)
			return 0;
	for (size_t i = 0; i < maps->n; i++)
		if ((maps->v[i].prot & PROT_EXEC) && maps->v[i].path &&
		    maps->v[i].path[0] == '/' && scan_for_syscall(memfd, &maps->v[i], ret) == 0)
			return 0;
	return -ENOEXEC;
}

/* The borrowed thread serves nothing else for the whole load: a dozen round
 * trips, milliseconds on a busy host (bench 5b). So take the thread that has
 * used the least CPU: a server's helper rather than the event loop that
 * answers requests. (Not "the one asleep": just after a flip released them,
 * idle threads are still runnable on a busy host.) One read per thread, and
 * the state only of the one chosen: a zombie leader or a thread in an
 * uninterruptible wait is passed over for the next. The main thread wins
 * ties, so without schedstat this is the main thread, as it always was. */
static bool avoided(pid_t tid, const pid_t *avoid, int navoid)
{
	for (int i = 0; i < navoid; i++)
		if (avoid[i] == tid)
			return true;
	return false;
}

static pid_t pick_thread(pid_t pid, const pid_t *avoid, int navoid)
{
	pid_t *tids = NULL, pick = pid;
	uint64_t *cpu = NULL;
	size_t n = 0;

	if (proc_tasks(pid, &tids, &n) < 0 || !n)
		goto out;
	cpu = calloc(n, sizeof(*cpu));
	if (!cpu)
		goto out;
	for (size_t i = 0; i < n; i++)
		cpu[i] = avoided(tids[i], avoid, navoid) ? UINT64_MAX
							  : proc_thread_runtime_ns(pid, tids[i]);
	for (size_t tries = 0; tries < n; tries++) {
		size_t best = n;
		char st;

		for (size_t i = 0; i < n; i++)
			if (cpu[i] != UINT64_MAX &&
			    (best == n || cpu[i] < cpu[best] ||
			     (cpu[i] == cpu[best] && tids[i] == pid)))
				best = i;
		if (best == n)
			break; /* none left: the main thread, as without schedstat */
		st = proc_thread_state(pid, tids[best]);
		if (st != 'Z' && st != 'D' && st != 'X' && st != '?') {
			pick = tids[best];
			break;
		}
		cpu[best] = UINT64_MAX; /* passed over */
	}
out:
	free(cpu);
	free(tids);
	return pick;
}

static int gone_error(struct remote *rm)
{
	return hp_err(-ESRCH, "process %d exited during the operation", rm->pid);
}

/* Wait for the next stop of the remote thread and return its raw status. */
static int remote_wait(struct remote *rm, int *status)
{
	int r;

	rm->t.stopped = false;
	rm->t.sig = 0;
	r = thread_wait(&rm->t, rm->deadline_ns, status);
	if (r == -ETIMEDOUT)
		return hp_err(r, "thread %d of process %d did not stop in time (state %c)",
			      rm->t.tid, rm->pid, proc_thread_state(rm->pid, rm->t.tid));
	if (r < 0)
		return r;
	return rm->t.gone ? gone_error(rm) : 0;
}

/* The frame holds the registers just saved: (re)written after every save.
 * Unguarded calls remain possible, and are said in the debug trace. */
static void arm_guard(struct remote *rm)
{
	int r = -ENOENT;

	if (rm->guard.syscall_at)
		r = guard_arm(&rm->guard, rm->t.tid, rm->memfd, rm->maps, &rm->saved);
	hp_debug("pid %d: thread %d saved in syscall %lld (result %lld)", rm->pid, rm->t.tid,
		 (long long)arch_syscall_nr(&rm->saved), (long long)arch_syscall_ret(&rm->saved));
	if (r < 0)
		hp_debug("pid %d: remote calls unguarded (%s)", rm->pid, strerror(-r));
}

/* Get the thread into an interrupt stop with its registers saved, delivering
 * any signal that reports first. */
static int interrupt_and_save(struct remote *rm)
{
	for (int i = 0; i < RETRIES_MAX; i++) {
		int status, r;

		thread_note_call(&rm->t);
		if (ptrace(PTRACE_INTERRUPT, rm->t.tid, NULL, NULL) < 0)
			return errno == ESRCH ? gone_error(rm)
					      : hp_err(-errno, "cannot interrupt thread %d: %m",
						       rm->t.tid);
		r = remote_wait(rm, &status);
		if (r < 0)
			return r;
		if (rm->t.sig) {
			/* A signal-delivery-stop: let the signal go through
			 * now, to the untouched thread, and stop it again. */
			if (ptrace(PTRACE_CONT, rm->t.tid, NULL, (void *)(long)rm->t.sig) < 0)
				return gone_error(rm);
			continue;
		}
		if (arch_regs_get(rm->t.tid, &rm->saved) < 0)
			return hp_err(-errno, "cannot read registers of thread %d: %m", rm->t.tid);
		/* Restored in an interrupt stop (or by the guard frame): a call
		 * our interrupt made return EINTR is made again. */
		thread_restartable(&rm->t, &rm->saved);
		rm->in_syscall_stop = 0;
		arm_guard(rm);
		return 0;
	}
	return hp_err(-EAGAIN, "process %d receives signals too fast to be stopped; retry",
		      rm->pid);
}

/* The frame ends in rt_sigreturn: only if the thread's filter allows it. */
static bool sigreturn_allowed(const struct remote *rm)
{
	const long none[6] = {0};
	uint32_t action;

	return !rm->filters ||
	       seccomp_evaluate(rm->filters, SYS_rt_sigreturn, none, rm->guard.sigreturn_at + 7,
				&action) == SECCOMP_VERDICT_ALLOW;
}

/* Seize and stop the thread pick_thread() chose. A thread that ends first
 * (a short-lived worker, which has used the least CPU of all) is passed over
 * for another, as long as the process lives. */
static int borrow(struct remote *rm)
{
	pid_t avoid[BORROW_TRIES_MAX] = {0};
	int r = 0;

	for (int tries = 0; tries < BORROW_TRIES_MAX; tries++) {
		rm->t = (struct thread){.tid = pick_thread(rm->pid, avoid, tries)};
		hp_debug("pid %d: system calls made by thread %d", rm->pid, rm->t.tid);
		if (ptrace(PTRACE_SEIZE, rm->t.tid, NULL, (void *)(long)THREADS_SEIZE_OPTIONS) < 0)
			r = errno == ESRCH ? gone_error(rm) : threads_seize_error(rm->pid, errno);
		else {
			rm->t.seized = true;
			r = interrupt_and_save(rm);
		}
		/* Continuing a call the guard frame could not restart: another
		 * thread, if there is one (guard.h). */
		if (r == 0 && rm->guard.syscall_at && !guard_resumable(rm->memfd, &rm->saved) &&
		    tries + 1 < BORROW_TRIES_MAX)
			r = -EAGAIN;
		if ((r != -ESRCH && r != -EAGAIN) || proc_exited(rm->pid))
			return r;
		if (rm->t.seized && !rm->t.gone)
			remote_detach(rm);
		avoid[tries] = rm->t.tid;
		hp_err_clear();
	}
	return r;
}

int remote_attach(struct remote *rm, pid_t pid, int memfd, const struct proc_maps *maps,
		  int64_t deadline_ns)
{
	int r;

	*rm = (struct remote){.pid = pid, .deadline_ns = deadline_ns, .maps = maps, .memfd = memfd};
	r = find_syscall_insn(memfd, maps, &rm->syscall_addr);
	if (r < 0)
		return hp_err(r, "process %d has no syscall instruction mapped", pid);
	/* A shadow stack would refuse the frame's rt_sigreturn. */
	if (proc_shadow_stack(pid) || guard_find(memfd, maps, &rm->guard) < 0)
		rm->guard = (struct guard){0};
	/* Armed once for all the waits until remote_detach(). */
	r = deadline_hold(deadline_ns);
	if (r == 0)
		r = borrow(rm);
	if (r == 0)
		r = seccomp_filters_get(pid, rm->t.tid, &rm->filters);
	if (r == 0 && rm->guard.armed && !sigreturn_allowed(rm))
		rm->guard = (struct guard){0};
	if (r < 0)
		remote_detach(rm);
	return r;
}

static const char *syscall_name(long nr)
{
	switch (nr) {
	case SYS_mmap: return "mmap";
	case SYS_munmap: return "munmap";
	case SYS_socketpair: return "socketpair";
	case SYS_recvmsg: return "recvmsg";
	case SYS_close: return "close";
	case SYS_openat: return "openat";
	default: return "a system call";
	}
}

static int check_filters(struct remote *rm, long nr, const long args[6])
{
	uint32_t action;

	uint64_t at = rm->guard.armed ? rm->guard.syscall_at : rm->syscall_addr;

	if (!rm->filters || seccomp_evaluate(rm->filters, nr, args, at + arch_syscall_insn_len,
					     &action) != SECCOMP_VERDICT_DANGER)
		return 0;
	return hp_err(-EPERM, "process %d's seccomp filter would %s on %s; hotpatch did not make "
			      "the call",
		      rm->pid, seccomp_action_name(action), syscall_name(nr));
}

static void load_call(struct user_regs_struct *regs, const struct remote *rm, long nr,
		      const long a[6])
{
	*regs = rm->saved;
	arch_syscall_load(regs, rm->syscall_addr, nr, a);
	if (rm->guard.armed)
		guard_call_regs(&rm->guard, regs);
}

/* A signal arrived while the registers were ours: restore the real context,
 * deliver the signal to it, then stop the thread again. */
static int deliver_and_restart(struct remote *rm, int sig)
{
	if (arch_regs_set(rm->t.tid, &rm->saved) < 0 ||
	    ptrace(PTRACE_CONT, rm->t.tid, NULL, (void *)(long)sig) < 0)
		return gone_error(rm);
	return interrupt_and_save(rm);
}

static bool is_syscall_stop(int status)
{
	return WIFSTOPPED(status) && WSTOPSIG(status) == (SIGTRAP | 0x80) && (status >> 16) == 0;
}

/* Resume to the next syscall stop, passing through group stops. */
static int run_to_syscall_stop(struct remote *rm, int *ret_sig)
{
	*ret_sig = 0;
	for (int i = 0; i < RETRIES_MAX; i++) {
		int status, r;

		if (ptrace(PTRACE_SYSCALL, rm->t.tid, NULL, NULL) < 0)
			return gone_error(rm);
		r = remote_wait(rm, &status);
		if (r < 0)
			return r;
		if (is_syscall_stop(status))
			return 0;
		if (rm->t.sig) {
			*ret_sig = rm->t.sig;
			return 0;
		}
		/* An interrupt or group stop: just carry on. */
	}
	return hp_err(-EAGAIN, "thread %d of process %d keeps stopping; retry", rm->t.tid,
		      rm->pid);
}

/* From a syscall-exit stop, move the thread into an interrupt stop, where
 * restoring an interrupted system call's registers is safe. */
static int leave_syscall_stop(struct remote *rm)
{
	int status, r;

	if (!rm->in_syscall_stop)
		return 0;
	if (ptrace(PTRACE_INTERRUPT, rm->t.tid, NULL, NULL) < 0 ||
	    ptrace(PTRACE_CONT, rm->t.tid, NULL, NULL) < 0)
		return gone_error(rm);
	r = remote_wait(rm, &status);
	if (r < 0)
		return r;
	if (is_syscall_stop(status))
		return hp_err(-EPROTO, "thread %d stopped in a syscall again", rm->t.tid);
	rm->in_syscall_stop = 0;
	return 0;
}

/* Put the thread back into its own registers, in an interrupt (or signal
 * delivery) stop. A signal that reported instead is delivered to the real
 * context at once. After this a tool killed leaves nothing behind. */
static int restore(struct remote *rm)
{
	int r = leave_syscall_stop(rm);

	if (r < 0)
		return r;
	if (arch_regs_set(rm->t.tid, &rm->saved) < 0)
		return gone_error(rm);
	if (rm->t.sig) {
		if (ptrace(PTRACE_CONT, rm->t.tid, NULL, (void *)(long)rm->t.sig) < 0)
			return gone_error(rm);
		return interrupt_and_save(rm);
	}
	return 0;
}

/* Can the thread stay in its syscall-exit stop, with our registers, until
 * the next call or remote_detach()? Only when a tool killed meanwhile leaves
 * it exactly as restore() would: the guard frame is armed (it takes over, as
 * during a call) and resumes it exactly, which it does unless the thread's
 * own call is one the kernel would continue (ERESTART_RESTARTBLOCK: the
 * frame starts it again with its whole timeout). Else its registers are put
 * back after each call. Staying saves each call but the last an interrupt
 * stop: a PTRACE_INTERRUPT, a PTRACE_CONT, a wait for the thread to run
 * (the costly part on a loaded host) and a PTRACE_SETREGS; a load makes
 * about ten calls. */
static bool may_stay(const struct remote *rm)
{
	return rm->guard.armed &&
	       !(arch_syscall_nr(&rm->saved) >= 0 && arch_syscall_ret(&rm->saved) == -516);
}

int remote_syscall(struct remote *rm, long nr, long a0, long a1, long a2, long a3, long a4,
		   long a5, long *ret)
{
	const long args[6] = {a0, a1, a2, a3, a4, a5};
	struct user_regs_struct regs;
	int r = check_filters(rm, nr, args);

	if (r < 0)
		return r;
	for (int attempt = 0; attempt < RETRIES_MAX; attempt++) {
		int sig;

		load_call(&regs, rm, nr, args);
		if (arch_regs_set(rm->t.tid, &regs) < 0)
			return gone_error(rm);
		r = run_to_syscall_stop(rm, &sig);
		if (r < 0)
			return r;
		if (sig) {
			r = deliver_and_restart(rm, sig);
			if (r < 0)
				return r;
			continue;
		}
		/* Entry stop; the next one is the exit stop. */
		fault_point("remote-in-call");
		r = run_to_syscall_stop(rm, &sig);
		if (r < 0)
			return r;
		if (sig)
			return hp_err(-EPROTO, "unexpected signal %d inside a remote syscall", sig);
		if (arch_regs_get(rm->t.tid, &regs) < 0)
			return gone_error(rm);
		rm->in_syscall_stop = 1;
		rm->ncalls++;
		*ret = arch_syscall_ret(&regs);
		return may_stay(rm) ? 0 : restore(rm);
	}
	return hp_err(-EAGAIN, "process %d receives signals too fast; retry", rm->pid);
}

int remote_detach(struct remote *rm)
{
	int r = 0;

	rm->filters = seccomp_filters_free(rm->filters);
	if (rm->t.seized && !rm->t.gone) {
		/* Put back after the last call (may_stay()), or after a call
		 * that failed half-way. */
		if (rm->in_syscall_stop)
			r = restore(rm);
		if (ptrace(PTRACE_DETACH, rm->t.tid, NULL, (void *)(long)rm->t.sig) < 0 &&
		    errno == ESRCH)
			thread_reap(rm->t.tid);
		rm->t.seized = false;
	}
	deadline_release();
	return r;
}

int remote_call_ok(struct remote *rm, const char *what, long nr, long a0, long a1, long a2,
			  long a3, long a4, long a5, long *ret)
{
	long v;
	int r = remote_syscall(rm, nr, a0, a1, a2, a3, a4, a5, &v);

	if (r < 0)
		return r;
	if (v < 0 && v > -4096)
		return hp_err((int)v, "%s in process %d failed: %s%s", what, rm->pid,
			      strerror((int)-v),
			      v == -EPERM || v == -EACCES || v == -ENOSYS
				      ? " (is a seccomp filter blocking it?)"
				      : "");
	if (ret)
		*ret = v;
	return 0;
}

#ifndef PIDFD_THREAD
#define PIDFD_THREAD O_EXCL
#endif

/* Scratch layout in the target page at @s: sv[2] at 0, msghdr at 64, iovec at
 * 128, control buffer at 160, one data byte at 192. */
int remote_receive_fd(struct remote *rm, int local_fd, uint64_t s, int memfd, long *ret_fd)
{
	struct msghdr mh = {0};
	struct iovec iov = {.iov_base = (void *)(s + 192), .iov_len = 1};
	union {
		struct cmsghdr h;
		uint8_t b[CMSG_SPACE(sizeof(int))];
	} cm;
	int sv[2], pidfd = -1, end = -1, r;

	r = remote_call_ok(rm, "socketpair", SYS_socketpair, AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0,
			   (long)s, 0, 0, NULL);
	if (r < 0)
		return r;
	r = proc_mem_read(memfd, s, sv, sizeof(sv));
	if (r < 0)
		return r;
	/* The borrowed thread's own pidfd first (PIDFD_THREAD, Linux 6.9):
	 * when the main thread has exited, the process's pidfd reaches no
	 * files any more. */
	if (rm->t.tid != rm->pid)
		pidfd = (int)syscall(SYS_pidfd_open, rm->t.tid, PIDFD_THREAD);
	if (pidfd < 0)
		pidfd = (int)syscall(SYS_pidfd_open, rm->pid, 0);
	if (pidfd >= 0)
		end = (int)syscall(SYS_pidfd_getfd, pidfd, sv[0], 0);
	if (end < 0) {
		r = hp_err(errno == ENOSYS ? -ENOSYS : -errno,
			   "cannot reach a socket in process %d: %m", rm->pid);
		goto out;
	}
	memset(&cm, 0, sizeof(cm));
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = cm.b;
	mh.msg_controllen = sizeof(cm.b);
	cm.h.cmsg_level = SOL_SOCKET;
	cm.h.cmsg_type = SCM_RIGHTS;
	cm.h.cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(&cm.h), &local_fd, sizeof(int));
	iov.iov_base = "h";
	if (sendmsg(end, &mh, MSG_DONTWAIT) != 1) {
		r = hp_err(-errno, "cannot pass the patch object to process %d: %m", rm->pid);
		goto out;
	}
	/* The same structures, as the target's recvmsg() will see them. */
	iov.iov_base = (void *)(s + 192);
	mh.msg_iov = (void *)(s + 128);
	mh.msg_control = (void *)(s + 160);
	r = proc_mem_write(memfd, s + 64, &mh, sizeof(mh));
	if (r == 0)
		r = proc_mem_write(memfd, s + 128, &iov, sizeof(iov));
	if (r == 0)
		r = remote_call_ok(rm, "recvmsg", SYS_recvmsg, sv[1], (long)(s + 64),
				   MSG_DONTWAIT | MSG_CMSG_CLOEXEC, 0, 0, 0, NULL);
	if (r == 0)
		r = proc_mem_read(memfd, s + 160, cm.b, sizeof(cm.b));
	if (r == 0) {
		int fd;

		memcpy(&fd, CMSG_DATA(&cm.h), sizeof(int));
		if (cm.h.cmsg_type != SCM_RIGHTS || fd < 0)
			r = hp_err(-EPROTO, "process %d did not receive the patch object", rm->pid);
		*ret_fd = fd;
	}
out:
	remote_call_ok(rm, "close", SYS_close, sv[0], 0, 0, 0, 0, 0, NULL);
	remote_call_ok(rm, "close", SYS_close, sv[1], 0, 0, 0, 0, 0, NULL);
	if (end >= 0)
		close(end);
	if (pidfd >= 0)
		close(pidfd);
	return r;
}
