/* SPDX-License-Identifier: MIT */
#include "clock.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "error.h"

#define DEADLINE_SIGNAL (SIGRTMIN + 3)

static _Thread_local timer_t deadline_timer;
static _Thread_local int deadline_ready;
static _Thread_local int64_t armed_ns; /* the deadline the timer is set for; 0: disarmed */
static _Thread_local int held;
static pthread_once_t handler_once = PTHREAD_ONCE_INIT;

int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * NSEC_PER_SEC + ts.tv_nsec;
}

void sleep_ns(int64_t ns)
{
	struct timespec ts = {.tv_sec = ns / NSEC_PER_SEC, .tv_nsec = ns % NSEC_PER_SEC};

	while (ns > 0 && nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

void sleep_spin_ns(int64_t ns)
{
	int64_t end = now_ns() + ns;

	while (now_ns() < end)
		;
}

static void deadline_handler(int sig)
{
	(void)sig;
}

static void install_handler(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = deadline_handler;
	sigemptyset(&sa.sa_mask);
	/* No SA_RESTART: the point is to interrupt waitpid(). */
	sigaction(DEADLINE_SIGNAL, &sa, NULL);
}

static int deadline_init(void)
{
	struct sigevent sev;

	if (deadline_ready)
		return 0;
	pthread_once(&handler_once, install_handler);
	memset(&sev, 0, sizeof(sev));
	sev.sigev_notify = SIGEV_THREAD_ID;
	sev.sigev_signo = DEADLINE_SIGNAL;
	sev._sigev_un._tid = (pid_t)syscall(SYS_gettid);
	if (timer_create(CLOCK_MONOTONIC, &sev, &deadline_timer) < 0)
		return hp_err(-errno, "cannot create a timer: %m");
	deadline_ready = 1;
	return 0;
}

int deadline_arm(int64_t abs_ns)
{
	struct itimerspec its = {0};
	int r = deadline_init();

	int64_t at = abs_ns;

	if (r < 0)
		return r;
	if (held && armed_ns == abs_ns)
		return 0;
	if (at <= now_ns())
		at = now_ns() + 1000;
	its.it_value.tv_sec = at / NSEC_PER_SEC;
	its.it_value.tv_nsec = at % NSEC_PER_SEC;
	its.it_interval.tv_nsec = NSEC_PER_MSEC;
	if (timer_settime(deadline_timer, TIMER_ABSTIME, &its, NULL) < 0)
		return hp_err(-errno, "cannot arm a timer: %m");
	armed_ns = abs_ns;
	return 0;
}

void deadline_disarm(void)
{
	struct itimerspec its = {0};

	if (held || !deadline_ready)
		return;
	timer_settime(deadline_timer, 0, &its, NULL);
	armed_ns = 0;
}

int deadline_hold(int64_t abs_ns)
{
	int r = deadline_arm(abs_ns);

	held = r == 0;
	return r;
}

void deadline_release(void)
{
	held = 0;
	deadline_disarm();
}
