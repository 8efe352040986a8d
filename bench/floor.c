/* SPDX-License-Identifier: MIT */
/*
 * The floor under the pause: stop and release every thread of a process,
 * doing nothing in between, exactly as the engine's flip does
 * (threads_stop() ... threads_release() from src/lib/process/threads.c, timed by the
 * same pause_start_ns / pause_end_ns), many times.
 *
 *   bench-floor PID ITERATIONS GAP_US
 *
 * Prints {"threads": N, "pause_ns": [...], "timeouts": T} on stdout: a stop
 * that does not complete within the engine's default --stop-budget (possible
 * on a loaded host) is released, counted in T and not timed. Seizing is not timed,
 * as in the engine, where it happens before the pause. GAP_US is slept
 * between iterations so that released threads are back in their wait before
 * the next stop, as they are between two hotpatch runs.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "clock.h"
#include "error.h"
#include "threads.h"

#define STOP_BUDGET_NS (100 * NSEC_PER_MSEC) /* the engine's default --stop-budget */

int main(int argc, char **argv)
{
	struct threads ts = {0};
	pid_t pid;
	long iterations, gap_us, timeouts = 0, done = 0;
	int r = 0;

	if (argc != 4) {
		fprintf(stderr, "usage: bench-floor PID ITERATIONS GAP_US\n");
		return 2;
	}
	pid = atoi(argv[1]);
	iterations = atol(argv[2]);
	gap_us = atol(argv[3]);

	printf("{\"pause_ns\": [");
	for (long i = 0; i < iterations; i++) {
		r = threads_seize(&ts, pid);
		if (r == 0)
			r = threads_stop(&ts, now_ns() + STOP_BUDGET_NS, NULL); /* the plain stop */
		if (r == -ETIMEDOUT) {
			/* threads_stop() released the threads that did stop. */
			timeouts++;
			r = 0;
		} else if (r < 0) {
			break;
		} else {
			threads_release(&ts);
			printf("%s%lld", done++ ? ", " : "",
			       (long long)(ts.pause_end_ns - ts.pause_start_ns));
		}
		/* As the engine's back-off: a late stop is collected and released. */
		threads_idle(&ts, gap_us * NSEC_PER_USEC);
	}
	printf("], \"threads\": %zu, \"timeouts\": %ld}\n", ts.n, timeouts);
	threads_free(&ts);
	if (r < 0) {
		fprintf(stderr, "bench-floor: %s\n", hp_err_msg(r));
		return 1;
	}
	return 0;
}
