/* SPDX-License-Identifier: MIT */
/*
 * The target of the pause, --all and memory benchmarks.
 *
 *   bench-target THREADS [idle|spin|duty]
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
 * Writes "ready" to stdout once every thread has started (idle: is
 * blocked). Dies with its parent, so a killed benchmark leaves nothing
 * behind.
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#include "funcs.h"

#define IDLE_STACK (64 * 1024) /* 1024 threads must stay cheap */
#define DUTY_WORK_NS 200000L
#define DUTY_SLEEP_NS 200000L

enum mode { IDLE, SPIN, DUTY };
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

static void *worker(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&lock);
	nstarted++;
	pthread_cond_signal(&started);
	if (mode != IDLE) {
		pthread_mutex_unlock(&lock);
		busy();
	}
	for (;;)
		pthread_cond_wait(&never, &lock);
	return NULL;
}

int main(int argc, char **argv)
{
	int nthreads = argc > 1 ? atoi(argv[1]) : 1;
	pthread_attr_t attr;
	sigset_t usr1;

	if (argc > 2)
		mode = !strcmp(argv[2], "spin") ? SPIN : !strcmp(argv[2], "duty") ? DUTY : IDLE;
	if (nthreads < 1 || (argc > 2 && mode == IDLE && strcmp(argv[2], "idle"))) {
		fprintf(stderr, "usage: bench-target THREADS [idle|spin|duty]\n");
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
	for (int i = 1; i < nthreads; i++) {
		pthread_t t;

		if (pthread_create(&t, &attr, worker, NULL) != 0) {
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
	if (mode != IDLE)
		busy();
	for (;;)
		if (sigwaitinfo(&usr1, NULL) == SIGUSR1)
			run_all();
}
