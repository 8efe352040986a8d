/* SPDX-License-Identifier: MIT */
/*
 * Applying and reverting a bundle in one process: the orchestration of the
 * modules (module lookup, byte checks, loader, flip, record). Each call
 * handles one pid in the calling OS thread and never leaves the target
 * half-changed: on any failure it is left exactly as it was found, or, if
 * the flip already happened, completely patched.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "error.h"

struct bundle;

enum outcome {
	OUTCOME_PATCHED,
	OUTCOME_ALREADY,  /* nothing to do */
	OUTCOME_SKIPPED,  /* does not run the bundle's target build */
	OUTCOME_REVERTED,
	OUTCOME_FAILED,
};

struct engine_opts {
	int64_t timeout_ns;
	int64_t stop_budget_ns;
	bool replace;
	bool boost;              /* priority-assisted stop (default on) */
	int64_t boost_grace_ns;
	/* --all: a process that is gone, is a kernel thread or cannot be
	 * inspected is skipped, not failed (it was never asked for by name). */
	bool skip_uninspectable;
	const char *object_path; /* the bundle's .hpo in the store (apply) */
};

/* The pause the flip cost, as the engine's callers see it (the process
 * layer's own struct flip_stats stays behind this face). */
struct engine_pause {
	int attempts;
	int64_t pause_ns;     /* of the attempt that wrote */
	int64_t pause_max_ns; /* longest of all attempts */
	size_t threads;
	const char *boost;    /* off, unused, used or refused */
	bool boosted;         /* some threads were boosted */
	size_t threads_boosted;
};

struct engine_report {
	pid_t pid;
	char comm[32];
	enum outcome outcome;
	int err;
	char reason[HP_ERR_MAX];
	struct engine_pause flip;
	int64_t total_ns;
	unsigned nfuncs;
	unsigned superseded; /* patches replaced by --replace */
};

void engine_apply(const struct bundle *b, pid_t pid, const struct engine_opts *o,
		  struct engine_report *rep);
void engine_revert(const char *id, pid_t pid, const struct engine_opts *o,
		   struct engine_report *rep);
const char *outcome_name(enum outcome o);
