/* SPDX-License-Identifier: MIT */
/*
 * Applies and reverts run in forked worker processes, a few at a time. A
 * worker is the tracer of its target, so when it exits every ptrace link
 * goes with it (a thread that stopped late can never stay stuck behind a
 * long-lived daemon), and a worker that crashes cannot take the daemon down.
 * Each worker writes its report (smaller than PIPE_BUF, so atomically) to one
 * pipe the daemon polls.
 */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

#include "bundle.h"

#include "engine.h"

enum job_op { JOB_APPLY, JOB_REVERT };

struct job_result {
	enum job_op op;
	char id[BUNDLE_ID_LEN + 1];
	pid_t target;
	/* A failure will be retried (a process caught right after its exec):
	 * not worth an audit entry; the retry's outcome gets one. */
	bool retry_on_failure;
	struct engine_report rep;
};

struct workers;
struct bundle;

int workers_new(unsigned max, struct workers **ret);
void workers_free(struct workers *w);
int workers_fd(const struct workers *w);
unsigned workers_running(const struct workers *w);
/* Every worker slot taken: workers_start() would say -EAGAIN. */
bool workers_full(const struct workers *w);
bool workers_busy(const struct workers *w, const char *id, pid_t target);
/* Starts a job if a slot is free (-EAGAIN otherwise). */
int workers_start(struct workers *w, enum job_op op, const char *id, pid_t target,
		  bool retry_on_failure, const struct bundle *b, const struct engine_opts *eo);
/* Reads finished results (calling @done for each) and reaps workers; a
 * worker that died without a result is reported as failed. */
void workers_collect(struct workers *w, void (*done)(const struct job_result *r, void *arg),
		     void *arg);
