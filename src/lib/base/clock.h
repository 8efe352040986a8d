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
static inline int deadline_passed(int64_t abs_ns)
{
	return now_ns() >= abs_ns;
}
