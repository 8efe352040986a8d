/* SPDX-License-Identifier: MIT */
/*
 * Monotonic time, and deadlines for blocking waits.
 *
 * waitpid() has no timeout. A deadline arms a per-thread POSIX timer that
 * signals the calling thread with a no-op handler installed without
 * SA_RESTART, so a blocked waitpid() returns EINTR once the deadline passed.
 * The timer keeps firing every millisecond after expiry, so a deadline that
 * passes just before the wait starts still interrupts it.
 */
#pragma once

#include <stdint.h>

#define NSEC_PER_USEC 1000LL
#define NSEC_PER_MSEC 1000000LL
#define NSEC_PER_SEC 1000000000LL

int64_t now_ns(void);
void sleep_ns(int64_t ns);
/* Busy-waits @ns: for pauses of microseconds, shorter than any sleep. */
void sleep_spin_ns(int64_t ns);

int deadline_arm(int64_t abs_ns);
void deadline_disarm(void);
/* Keeps the timer armed for @abs_ns across a sequence of waits (remote.c's
 * calls, two waits each) until deadline_release(): meanwhile deadline_arm()
 * for the timer's deadline and deadline_disarm() make no system call (two
 * timer_settime per wait were 52 of an apply's 437). The timer fires only
 * once the deadline has passed, so what runs between the waits is not
 * interrupted before that. */
int deadline_hold(int64_t abs_ns);
void deadline_release(void);
static inline int deadline_passed(int64_t abs_ns)
{
	return now_ns() >= abs_ns;
}
