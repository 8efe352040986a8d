/* SPDX-License-Identifier: MIT */
#include "boost.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "debug.h"

/* The kernel's struct sched_attr (linux/sched/types.h clashes with glibc's
 * <sched.h>, so it is spelled out here). */
struct sched_attr {
	uint32_t size;
	uint32_t sched_policy;
	uint64_t sched_flags;
	int32_t sched_nice;
	uint32_t sched_priority;
	uint64_t sched_runtime;
	uint64_t sched_deadline;
	uint64_t sched_period;
	uint32_t sched_util_min;
	uint32_t sched_util_max;
};

#ifndef SCHED_DEADLINE
#define SCHED_DEADLINE 6
#endif
#define SCHED_FLAG_RESET_ON_FORK 0x01

#define SLOTS (1u << 16)
#define BOOST_PRIO_THREAD 1
#define BOOST_PRIO_SELF 2

struct boost_slot {
	_Atomic int active; /* boosted: the guardian restores it if we die */
	pid_t tid;
	struct sched_attr saved;
};

struct boost_table {
	_Atomic uint32_t next;
	struct boost_slot slot[SLOTS];
};

static struct boost_table *table;
static int guardian_pipe = -1;
static pthread_once_t guardian_once = PTHREAD_ONCE_INIT;
static _Thread_local struct sched_attr self_saved;
static _Thread_local bool self_boosted;

static int get_attr(pid_t tid, struct sched_attr *a)
{
	memset(a, 0, sizeof(*a));
	return (int)syscall(SYS_sched_getattr, tid, a, sizeof(*a), 0);
}

static int set_attr(pid_t tid, const struct sched_attr *a)
{
	return (int)syscall(SYS_sched_setattr, tid, a, 0);
}

/* Utilisation clamps are left as they are: only these flags are passed. */
static struct sched_attr restorable(const struct sched_attr *saved)
{
	struct sched_attr a = *saved;

	a.size = sizeof(a);
	a.sched_flags &= SCHED_FLAG_RESET_ON_FORK;
	return a;
}

static struct sched_attr fifo(const struct sched_attr *saved, unsigned prio)
{
	struct sched_attr a = {.size = sizeof(a), .sched_policy = SCHED_FIFO,
			       .sched_priority = prio};

	a.sched_flags = saved->sched_flags & SCHED_FLAG_RESET_ON_FORK;
	return a;
}

/* The guardian: a child that outlives a killed tool just long enough to put
 * back the attributes of every thread still marked boosted. It only makes
 * system calls. */
static void guardian_main(int rfd)
{
	char c;

	prctl(PR_SET_NAME, "hotpatch-guard", 0, 0, 0);
	signal(SIGINT, SIG_IGN);
	signal(SIGTERM, SIG_IGN);
	while (read(rfd, &c, 1) != 0)
		if (errno != EINTR)
			break;
	for (uint32_t i = 0; i < SLOTS; i++)
		if (atomic_load(&table->slot[i].active)) {
			struct sched_attr a = restorable(&table->slot[i].saved);

			set_attr(table->slot[i].tid, &a);
			atomic_store(&table->slot[i].active, 0);
		}
	_exit(0);
}

static void start_guardian(void)
{
	int fds[2];
	pid_t pid;
	void *p;

	p = mmap(NULL, sizeof(*table), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return;
	if (pipe2(fds, O_CLOEXEC) < 0) {
		munmap(p, sizeof(*table));
		return;
	}
	table = p;
	pid = fork();
	if (pid == 0) {
		/* Hold nothing of the tool's: an inherited descriptor would keep
		 * its lock (the audit log's flock) or its target alive after the
		 * tool closed it, until the tool exits. */
		close_range(3, (unsigned)fds[0] - 1, 0);
		close_range((unsigned)fds[0] + 1, ~0U, 0);
		guardian_main(fds[0]);
	}
	close(fds[0]);
	if (pid < 0) {
		close(fds[1]);
		munmap(p, sizeof(*table));
		table = NULL;
		return;
	}
	/* Never written: its closing, when we exit or die, is the signal. */
	guardian_pipe = fds[1];
	hp_debug("boost guardian is process %d", pid);
}

const char *boost_state_name(enum boost_state s)
{
	static const char *const names[] = {
		[BOOST_OFF] = "off",
		[BOOST_UNUSED] = "not needed",
		[BOOST_USED] = "used",
		[BOOST_REFUSED] = "refused",
	};

	return names[s];
}

bool boost_self_begin(void)
{
	pid_t self = (pid_t)syscall(SYS_gettid);
	struct sched_attr a;

	if (get_attr(self, &self_saved) < 0)
		return false;
	a = fifo(&self_saved, BOOST_PRIO_SELF);
	self_boosted = set_attr(self, &a) == 0;
	return self_boosted;
}

void boost_self_end(void)
{
	struct sched_attr a;

	if (!self_boosted)
		return;
	a = restorable(&self_saved);
	set_attr((pid_t)syscall(SYS_gettid), &a);
	self_boosted = false;
}

static bool is_realtime(const struct sched_attr *a)
{
	return a->sched_policy == SCHED_FIFO || a->sched_policy == SCHED_RR ||
	       a->sched_policy == SCHED_DEADLINE;
}

struct boost_slot *boost_thread(pid_t tid, bool *ret_refused)
{
	struct boost_slot *s;
	struct sched_attr a;

	*ret_refused = false;
	pthread_once(&guardian_once, start_guardian);
	if (!table) {
		*ret_refused = true; /* no guardian, no boost */
		return NULL;
	}
	s = &table->slot[atomic_fetch_add(&table->next, 1) % SLOTS];
	if (get_attr(tid, &s->saved) < 0 || is_realtime(&s->saved))
		return NULL;
	s->tid = tid;
	/* Marked before it is boosted: a tool killed in between leaves the
	 * guardian a restore that changes nothing. */
	atomic_store(&s->active, 1);
	a = fifo(&s->saved, BOOST_PRIO_THREAD);
	if (set_attr(tid, &a) < 0) {
		atomic_store(&s->active, 0);
		*ret_refused = errno == EPERM || errno == EACCES || errno == EBUSY;
		return NULL;
	}
	return s;
}

void boost_restore(struct boost_slot *s)
{
	struct sched_attr a;

	if (!s || !atomic_load(&s->active))
		return;
	a = restorable(&s->saved);
	set_attr(s->tid, &a);
	atomic_store(&s->active, 0);
}

int boost_describe(pid_t tid, char *buf, size_t len)
{
	struct sched_attr a;

	if (get_attr(tid, &a) < 0)
		return -errno;
	snprintf(buf, len, "policy=%u prio=%u nice=%d flags=%llu", a.sched_policy,
		 a.sched_priority, a.sched_nice, (unsigned long long)a.sched_flags);
	return 0;
}
