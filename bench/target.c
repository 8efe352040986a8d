/* SPDX-License-Identifier: MIT */
/*
 * The target of the pause, --all and memory benchmarks.
 *
 *   bench-target THREADS [idle|spin|duty|blocked|conn]
 *
 * Has 100 patchable functions f0..f99 (funcs.h) and THREADS threads in all.
 *
 * idle (the default): THREADS - 1 idle threads blocked in a condition
 * variable wait, like the workers of an idle thread pool, and the main
 * thread blocked in sigwaitinfo(). Each SIGUSR1 makes the main thread call
 * every function once: the memory benchmark uses it to run the patch code,
 * as a live program would.
 *
 * spin: every thread, the main one too, calls f0..f99 in a loop forever.
 *
 * duty: every thread works at 50% duty: it calls f0..f99 in a loop for
 * DUTY_WORK_NS of its own CPU time, sleeps DUTY_SLEEP_NS, and so on, like
 * the workers of a server under a steady load.
 *
 * blocked: as idle, but the THREADS - 1 threads wait in four kinds of
 * blocking system call in turn, as a server's threads do: a futex
 * (pthread_cond_wait), epoll_wait() on nothing, read() of a pipe that never
 * gets data, and a nanosleep() of an hour.
 *
 * conn: a thread-per-connection server. The main thread accepts on the unix
 * socket whose path is in $BENCH_SOCKET and starts one thread per
 * connection (THREADS is ignored); each reads a request (up to 64 bytes),
 * calls f0..f9 and writes the request back, until the client closes.
 *
 * Writes "ready" to stdout once every thread has started (idle, blocked: is
 * blocked; conn: listens). Dies with its parent, so a killed benchmark
 * leaves nothing behind.
 */
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "funcs.h"

#define IDLE_STACK (64 * 1024) /* 1024 threads must stay cheap */
#define DUTY_WORK_NS 200000L
#define DUTY_SLEEP_NS 200000L

enum mode { IDLE, SPIN, DUTY, BLOCKED, CONN };
static enum mode mode = IDLE;

volatile long bench_sink;

#define DEFINE(i) __attribute__((noinline)) long f##i(long x) BENCH_BODY(i)
BENCH_HUNDRED(DEFINE)

#define ENTRY(i) f##i,
static long (*const funcs[])(long) = {BENCH_HUNDRED(ENTRY)};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t started = PTHREAD_COND_INITIALIZER;
static pthread_cond_t never = PTHREAD_COND_INITIALIZER;
static int nstarted;

static void run_all(void)
{
	for (size_t i = 0; i < sizeof(funcs) / sizeof(funcs[0]); i++)
		bench_sink += funcs[i]((long)i);
}

static long cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec * 1000000000L + ts.tv_nsec;
}

static void busy(void)
{
	const struct timespec nap = {0, DUTY_SLEEP_NS};

	if (mode == SPIN)
		for (;;)
			run_all();
	for (;;) {
		long end = cpu_ns() + DUTY_WORK_NS;

		do {
			for (int i = 0; i < 8; i++)
				run_all();
		} while (cpu_ns() < end);
		nanosleep(&nap, NULL);
	}
}

/* Blocks forever in the system call of kind @kind % 4. */
static void block_in(long kind)
{
	const struct timespec hour = {3600, 0};
	struct epoll_event ev;
	int fds[2], ep;
	char c;

	switch (kind % 4) {
	case 1:
		ep = epoll_create1(EPOLL_CLOEXEC);
		for (;;)
			epoll_wait(ep, &ev, 1, -1);
	case 2:
		if (pipe2(fds, O_CLOEXEC) < 0)
			break;
		for (;;)
			if (read(fds[0], &c, 1) < 0)
				break;
		break;
	case 3:
		for (;;)
			nanosleep(&hour, NULL);
	}
	pthread_mutex_lock(&lock); /* kind 0, and a failed setup: the futex */
	for (;;)
		pthread_cond_wait(&never, &lock);
}

static void *worker(void *arg)
{
	pthread_mutex_lock(&lock);
	nstarted++;
	pthread_cond_signal(&started);
	if (mode == SPIN || mode == DUTY) {
		pthread_mutex_unlock(&lock);
		busy();
	}
	if (mode == BLOCKED && (long)arg % 4) {
		pthread_mutex_unlock(&lock);
		block_in((long)arg);
	}
	for (;;)
		pthread_cond_wait(&never, &lock);
	return NULL;
}

/* One connection of the conn mode: request in, f0..f9, request back. */
static void *serve_conn(void *arg)
{
	int fd = (int)(long)arg;
	char buf[64];
	ssize_t n;

	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		for (int i = 0; i < 10; i++)
			bench_sink += funcs[i](n);
		if (write(fd, buf, (size_t)n) != n)
			break;
	}
	close(fd);
	return NULL;
}

static int serve(pthread_attr_t *attr)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	const char *path = getenv("BENCH_SOCKET");
	int ls = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (!path || strlen(path) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "bench-target conn: set BENCH_SOCKET to a socket path\n");
		return 2;
	}
	strcpy(sa.sun_path, path);
	if (ls < 0 || bind(ls, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(ls, 4096) < 0) {
		perror("bench-target conn: listen");
		return 1;
	}
	pthread_attr_setdetachstate(attr, PTHREAD_CREATE_DETACHED);
	if (write(1, "ready\n", 6) != 6)
		return 1;
	for (;;) {
		int fd = accept4(ls, NULL, NULL, SOCK_CLOEXEC);
		pthread_t t;

		if (fd >= 0 && pthread_create(&t, attr, serve_conn, (void *)(long)fd) != 0)
			close(fd);
	}
}

int main(int argc, char **argv)
{
	int nthreads = argc > 1 ? atoi(argv[1]) : 1;
	pthread_attr_t attr;
	sigset_t usr1;

	if (argc > 2)
		mode = !strcmp(argv[2], "spin")	     ? SPIN
		       : !strcmp(argv[2], "duty")    ? DUTY
		       : !strcmp(argv[2], "blocked") ? BLOCKED
		       : !strcmp(argv[2], "conn")    ? CONN
						     : IDLE;
	if (nthreads < 1 || (argc > 2 && mode == IDLE && strcmp(argv[2], "idle"))) {
		fprintf(stderr, "usage: bench-target THREADS [idle|spin|duty|blocked|conn]\n");
		return 2;
	}
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	/* Blocked before any thread exists, so only sigwaitinfo() takes it. */
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &usr1, NULL);
	/* Its code is paged in, like a live program's, before any patch. */
	run_all();

	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, IDLE_STACK);
	if (mode == CONN)
		return serve(&attr);
	for (long i = 1; i < nthreads; i++) {
		pthread_t t;

		if (pthread_create(&t, &attr, worker, (void *)i) != 0) {
			perror("pthread_create");
			return 1;
		}
	}
	pthread_mutex_lock(&lock);
	while (nstarted < nthreads - 1)
		pthread_cond_wait(&started, &lock);
	/* Each idle thread holds the mutex until its wait releases it, so
	 * all of them are in pthread_cond_wait() now. */
	pthread_mutex_unlock(&lock);

	if (write(1, "ready\n", 6) != 6)
		return 1;
	if (mode == SPIN || mode == DUTY)
		busy();
	for (;;)
		if (sigwaitinfo(&usr1, NULL) == SIGUSR1)
			run_all();
}
