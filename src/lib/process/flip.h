/* SPDX-License-Identifier: MIT */
/*
 * The flip: the only moment the target stops.
 *
 * Everything is prepared before it (object loaded, bytes computed, threads
 * seized). An attempt is: stop every thread, check that the bytes about to be
 * replaced are still the expected ones, run the safety check, write every
 * change through /proc/PID/mem, release. If the check fails, everything is
 * released untouched and the attempt is retried with a growing back-off until
 * the timeout. If a write fails, the writes already done are undone before
 * any thread runs: the target is never seen half-patched.
 *
 * May be called only by the OS thread that will also release the threads.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "record.h"

struct safety;

struct flip_write {
	uint64_t addr;
	uint8_t len;
	uint8_t bytes[RECORD_MAX_BYTES];  /* to write */
	uint8_t expect[RECORD_MAX_BYTES]; /* must be there now */
};

struct flip_opts {
	int64_t timeout_ns;    /* give up after this long */
	int64_t stop_budget_ns; /* one attempt's limit for stopping every thread */
	bool boost;            /* the priority-assisted stop (boost.h) */
	int64_t boost_grace_ns; /* how long a thread may take to stop unboosted */
};

struct flip_stats {
	int attempts;
	int64_t pause_ns;     /* of the attempt that wrote */
	int64_t pause_max_ns; /* longest of all attempts */
	size_t threads;
	int boost;            /* enum boost_state of the attempt that wrote */
	size_t boosted;       /* threads it boosted */
};

int flip_run(struct safety *s, const struct flip_write *w, size_t n, const struct flip_opts *o,
	     struct flip_stats *st);
