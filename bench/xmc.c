/* SPDX-License-Identifier: MIT */
/*
 * Cross-modifying code through /proc/PID/mem (issue 19 item 1): can a thread
 * that is not stopped see a torn instruction while another process rewrites
 * it with one write(2)?
 *
 * A child executes, in a loop, a 5-byte `mov $imm32, %eax; ret` placed at
 * an 8-byte-aligned address of a read-only executable page (as a target's
 * text is), and checks that %eax is one of the two immediates the parent
 * writes in turn through /proc/CHILD/mem: one pwrite of the 8 aligned bytes
 * holding the instruction (or of its 5 bytes, with `5`). A value that is
 * neither is an instruction fetched half old and half new. The kernel
 * copies the bytes with memcpy (copy_to_user_page), which on a CPU with
 * FSRM is `rep movsb`: no single store, and the Intel SDM guarantees nothing
 * to another processor fetching modified code without serialisation.
 *
 *   bench-xmc [SECONDS] [8|5] [OFFSET]
 *
 * OFFSET is the site's offset in its page (default 0x40: 8-byte aligned;
 * 0x44 is where a jump after an endbr64 at a 16-byte-aligned entry goes,
 * its 5 bytes across an 8-byte word; 0x3c, 8 bytes not 8-aligned).
 * Prints the calls, the writes, how many calls saw the second immediate
 * (the change is seen at all) and how many saw a torn one.
 *
 *   bench-xmc trap
 *
 * What an int3 needs: a tracer (another process) seizes the executor,
 * writes an int3 over the site and lets the executor trap on it; then
 * either the tracer handles the trap (puts the byte back, rip back on it,
 * detaches: the executor lives on), or the tracer is SIGKILLed with the
 * trap taken but not handled, or before the trap is reached. Prints what
 * became of the executor in each case.
 *
 *   bench-xmc snapshot [THREADS]
 *
 * The reading half, which does work: THREADS threads blocked in read() of
 * a pipe; for each, its user PC and SP from /proc/PID/task/TID/syscall and
 * its switch-in count (schedstat's third field), read twice 50 ms apart
 * (unchanged while it sleeps), the cost of one such pass, and for one
 * thread the registers ptrace sees once it is stopped, beside the file's.
 */
#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <inttypes.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define IMM_A 0x11111111u
#define IMM_B 0x22222222u

struct shared {
	volatile int stop;
	volatile int ready;
	volatile uint64_t calls, torn, seen_b;
	volatile uint32_t example;
	uint64_t site;
	size_t off; /* of the site in its page */
};

static void encode(uint8_t out[8], uint32_t imm)
{
	/* mov $imm, %eax; ret; int3 int3 */
	const uint8_t code[8] = {0xb8, imm, imm >> 8, imm >> 16, imm >> 24, 0xc3, 0xcc, 0xcc};

	memcpy(out, code, 8);
}

static void executor(struct shared *sh)
{
	uint8_t *page = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uint32_t (*fn)(void);

	if (page == MAP_FAILED)
		_exit(1);
	memset(page, 0xcc, 4096);
	encode(page + sh->off, IMM_A);
	/* Read-only and executable, like a program's text: the parent's writes
	 * go through the kernel's forced write, as hotpatch's do. */
	if (mprotect(page, 4096, PROT_READ | PROT_EXEC) < 0)
		_exit(1);
	fn = (uint32_t (*)(void))(void *)(page + sh->off);
	sh->site = (uint64_t)(uintptr_t)(page + sh->off);
	__atomic_store_n(&sh->ready, 1, __ATOMIC_RELEASE);
	while (!sh->stop) {
		uint32_t v = fn();

		sh->calls++;
		sh->seen_b += v == IMM_B;
		if (v != IMM_A && v != IMM_B) {
			sh->torn++;
			sh->example = v;
		}
	}
	_exit(0);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static pid_t start_executor(struct shared *sh, size_t off)
{
	pid_t child;

	memset(sh, 0, sizeof(*sh));
	sh->off = off;
	child = fork();
	if (child == 0)
		executor(sh);
	while (!__atomic_load_n(&sh->ready, __ATOMIC_ACQUIRE))
		;
	return child;
}

static int poke(pid_t pid, uint64_t addr, const void *buf, size_t len)
{
	char path[64];
	int fd, r;

	snprintf(path, sizeof(path), "/proc/%d/mem", pid);
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return -1;
	r = pwrite(fd, buf, len, (off_t)addr) == (ssize_t)len ? 0 : -1;
	close(fd);
	return r;
}

enum trap_case { TRAP_HANDLED, TRAP_TAKEN_THEN_KILLED, TRAP_AFTER_KILL };

/* The tracer: seize, arm, and for TRAP_HANDLED take the trap and undo it.
 * Reports on @ready when the executor is in its trap stop (or, for
 * TRAP_AFTER_KILL, once seized), then waits to be killed. */
static void tracer(pid_t victim, uint64_t site, enum trap_case c, int ready)
{
	const uint8_t int3 = 0xcc, first = 0xb8;
	struct user_regs_struct regs;
	int status;

	if (ptrace(PTRACE_SEIZE, victim, NULL, NULL) < 0)
		_exit(1);
	if (c == TRAP_AFTER_KILL) {
		(void)!write(ready, "s", 1);
		pause();
	}
	if (poke(victim, site, &int3, 1) < 0 || waitpid(victim, &status, __WALL) != victim ||
	    !WIFSTOPPED(status) || WSTOPSIG(status) != SIGTRAP)
		_exit(1);
	if (c == TRAP_HANDLED) {
		ptrace(PTRACE_GETREGS, victim, NULL, &regs);
		regs.rip--;
		poke(victim, site, &first, 1);
		ptrace(PTRACE_SETREGS, victim, NULL, &regs);
		ptrace(PTRACE_DETACH, victim, NULL, NULL);
	}
	(void)!write(ready, "t", 1);
	pause();
	_exit(0);
}

static const char *fate(pid_t child, struct shared *sh)
{
	static char buf[96];
	int status;

	usleep(200 * 1000);
	if (waitpid(child, &status, WNOHANG) == child)
		snprintf(buf, sizeof(buf), "the executor died: %s",
			 WIFSIGNALED(status) ? strsignal(WTERMSIG(status)) : "exited");
	else {
		uint64_t calls = sh->calls;

		usleep(50 * 1000);
		snprintf(buf, sizeof(buf), "the executor lives (%s)",
			 sh->calls > calls ? "still calling" : "not calling");
		sh->stop = 1;
		waitpid(child, &status, 0);
	}
	return buf;
}

static int trap_cases(struct shared *sh)
{
	static const char *const what[] = {
		"tracer takes the trap and undoes it",
		"tracer SIGKILLed with the trap taken, not handled",
		"tracer SIGKILLed before the trap is reached",
	};

	for (int c = TRAP_HANDLED; c <= TRAP_AFTER_KILL; c++) {
		pid_t child = start_executor(sh, 0x40), tr;
		int p[2];
		char ch;

		if (pipe(p) < 0)
			return 1;
		tr = fork();
		if (tr == 0)
			tracer(child, sh->site, c, p[1]);
		if (read(p[0], &ch, 1) != 1) {
			printf("%s: the tracer failed\n", what[c]);
			kill(child, SIGKILL);
			continue;
		}
		if (c != TRAP_HANDLED)
			kill(tr, SIGKILL);
		waitpid(tr, NULL, c == TRAP_HANDLED ? WNOHANG : 0);
		if (c == TRAP_AFTER_KILL) {
			const uint8_t int3 = 0xcc;

			poke(child, sh->site, &int3, 1);
		}
		printf("%s: %s\n", what[c], fate(child, sh));
		if (c == TRAP_HANDLED) {
			kill(tr, SIGKILL);
			waitpid(tr, NULL, 0);
		}
		close(p[0]);
		close(p[1]);
	}
	return 0;
}

static void *sleeper(void *arg)
{
	char c;

	(void)!read(*(int *)arg, &c, 1);
	return NULL;
}

static void blocked_process(int nthreads, int ready)
{
	static int p[2];
	pthread_t t;

	if (pipe(p) < 0)
		_exit(1);
	for (int i = 0; i < nthreads; i++)
		if (pthread_create(&t, NULL, sleeper, &p[0]) != 0)
			_exit(1);
	(void)!write(ready, "r", 1);
	sleeper(&p[0]);
	_exit(0);
}

struct snap {
	pid_t tid;
	int sysfd, schedfd;
	uint64_t pc, sp, pcount;
	bool blocked;
};

static int snap_read(struct snap *t)
{
	char buf[256];
	unsigned long long run, wait, pcount;
	long long nr;
	ssize_t n;

	n = pread(t->sysfd, buf, sizeof(buf) - 1, 0);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	t->blocked = sscanf(buf, "%lld %*s %*s %*s %*s %*s %*s %" SCNx64 " %" SCNx64, &nr, &t->sp,
			    &t->pc) == 3;
	n = pread(t->schedfd, buf, sizeof(buf) - 1, 0);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	if (sscanf(buf, "%llu %llu %llu", &run, &wait, &pcount) != 3)
		return -1;
	t->pcount = pcount;
	return 0;
}

static size_t snap_open(pid_t pid, struct snap *v, size_t max)
{
	char path[96];
	struct dirent *d;
	size_t n = 0;
	DIR *dir;

	snprintf(path, sizeof(path), "/proc/%d/task", pid);
	dir = opendir(path);
	while (dir && (d = readdir(dir)) && n < max) {
		if (d->d_name[0] == '.')
			continue;
		v[n].tid = atoi(d->d_name);
		snprintf(path, sizeof(path), "/proc/%d/task/%d/syscall", pid, v[n].tid);
		v[n].sysfd = open(path, O_RDONLY | O_CLOEXEC);
		snprintf(path, sizeof(path), "/proc/%d/task/%d/schedstat", pid, v[n].tid);
		v[n].schedfd = open(path, O_RDONLY | O_CLOEXEC);
		if (v[n].sysfd >= 0 && v[n].schedfd >= 0)
			n++;
	}
	if (dir)
		closedir(dir);
	return n;
}

static int snapshot_case(int nthreads)
{
	struct snap *v = calloc((size_t)nthreads + 1, sizeof(*v)), *w;
	size_t n, blocked = 0, moved = 0;
	struct user_regs_struct regs;
	double t0, pass_us;
	int p[2], status;
	pid_t child;
	char c;

	if (!v || pipe(p) < 0)
		return 1;
	child = fork();
	if (child == 0)
		blocked_process(nthreads, p[1]);
	if (read(p[0], &c, 1) != 1)
		return 1;
	usleep(300 * 1000); /* every thread asleep in read() */
	n = snap_open(child, v, (size_t)nthreads + 1);
	w = calloc(n ? n : 1, sizeof(*w));
	if (!w || !n) {
		kill(child, SIGKILL);
		return 1;
	}
	t0 = now_s();
	for (size_t i = 0; i < n; i++)
		snap_read(&v[i]);
	pass_us = (now_s() - t0) * 1e6;
	usleep(50 * 1000);
	for (size_t i = 0; i < n; i++) {
		w[i] = v[i];
		snap_read(&w[i]);
		blocked += v[i].blocked;
		moved += w[i].pcount != v[i].pcount;
	}
	printf("%zu threads: %zu blocked with a user pc/sp; one pass over syscall and schedstat "
	       "%.0f us (%.2f us a thread); switch-in count moved in 50 ms asleep: %zu\n",
	       n, blocked, pass_us, pass_us / (double)n, moved);
	if (ptrace(PTRACE_SEIZE, v[n - 1].tid, NULL, NULL) == 0 &&
	    ptrace(PTRACE_INTERRUPT, v[n - 1].tid, NULL, NULL) == 0 &&
	    waitpid(v[n - 1].tid, &status, __WALL) == v[n - 1].tid &&
	    ptrace(PTRACE_GETREGS, v[n - 1].tid, NULL, &regs) == 0)
		printf("thread %d: syscall file pc 0x%" PRIx64 " sp 0x%" PRIx64 "; stopped: rip "
		       "0x%llx rsp 0x%llx (%s)\n",
		       v[n - 1].tid, v[n - 1].pc, v[n - 1].sp, regs.rip, regs.rsp,
		       regs.rip == v[n - 1].pc && regs.rsp == v[n - 1].sp ? "the same" : "DIFFERENT");
	/* Detached first: a traced thread of a killed process is a zombie
	 * only its tracer can reap, and the process waits for it. */
	ptrace(PTRACE_DETACH, v[n - 1].tid, NULL, NULL);
	kill(child, SIGKILL);
	waitpid(child, &status, 0);
	return 0;
}

/* The executor runs the site while this process rewrites it @len bytes at
 * a time, for @secs seconds. */
static int tear_case(struct shared *sh, double secs, size_t len, size_t off)
{
	uint8_t code[2][8];
	uint64_t writes = 0;
	char path[64];
	pid_t child;
	int fd, status;

	encode(code[0], IMM_A);
	encode(code[1], IMM_B);
	child = start_executor(sh, off);
	snprintf(path, sizeof(path), "/proc/%d/mem", child);
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		perror(path);
		kill(child, SIGKILL);
		return 1;
	}
	for (double end = now_s() + secs; now_s() < end;)
		for (int i = 0; i < 1000; i++, writes++)
			if (pwrite(fd, code[writes & 1], len, (off_t)sh->site) != (ssize_t)len) {
				perror("pwrite");
				sh->stop = 1;
				return 1;
			}
	sh->stop = 1;
	waitpid(child, &status, 0);
	close(fd);
	printf("write of %zu bytes at page offset 0x%zx: %" PRIu64 " calls, %" PRIu64
	       " writes, %" PRIu64 " saw the new value, %" PRIu64 " torn",
	       len, off, sh->calls, writes, sh->seen_b, sh->torn);
	if (sh->torn)
		printf(" (e.g. %%eax = 0x%08x)", sh->example);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		printf("; the executor died (%s)",
		       WIFSIGNALED(status) ? strsignal(WTERMSIG(status)) : "exit status");
	printf("\n");
	return 0;
}

int main(int argc, char **argv)
{
	struct shared *sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE,
				 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	size_t off = argc > 3 ? strtoul(argv[3], NULL, 0) : 0x40;

	if (sh == MAP_FAILED || off > 4096 - 8) {
		fprintf(stderr, "usage: bench-xmc [SECONDS [5|8 [OFFSET < 0xff8]]] | trap | "
				"snapshot [THREADS]\n");
		return 2;
	}
	if (argc > 1 && strcmp(argv[1], "trap") == 0)
		return trap_cases(sh);
	if (argc > 1 && strcmp(argv[1], "snapshot") == 0)
		return snapshot_case(argc > 2 ? atoi(argv[2]) : 64);
	return tear_case(sh, argc > 1 ? atof(argv[1]) : 3,
			 argc > 2 && atoi(argv[2]) == 5 ? 5 : 8, off);
}
