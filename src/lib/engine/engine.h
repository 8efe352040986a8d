/* SPDX-License-Identifier: MIT */
/*
 * The engine's face: the one header through which the cli and the daemon
 * change processes (they cannot see src/lib/process/: meson gives them no
 * such include folder). engine_run() applies or reverts a bundle on many
 * processes; for each it never leaves the target half-changed: on any
 * failure it is left exactly as it was found, or, if the flip already
 * happened, completely patched. The engine also keeps the policies that go
 * with writing into processes: the audit trail and commit staging.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "bundle.h"
#include "commit.h"
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
	const char *object_path; /* set by engine_run: the bundle's .hpo in the store */
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

const char *outcome_name(enum outcome o);

/* --- one operation over many processes: the engine's face ---------------- */

/* What the commit policy (hotpatch.conf `commit = at-boot | immediately |
 * never`) decided after an operation:
 * - a signed bundle that carries a fixed file is staged for commit when it is
 *   applied to a process or enabled (at-boot), committed right away
 *   (immediately), or left alone (never);
 * - only a bundle with no commit record is staged: one that was committed,
 *   superseded or rolled back stays so until `hotpatch commit ID` is asked
 *   for by name (a rollback is a decision, and the next boot must not
 *   silently undo it);
 * - `revert --all` and `disable` withdraw a staging: a patch taken out of
 *   every process is not wanted on disk either;
 * - a bundle whose target a package upgrade has already replaced (another
 *   build is at its path) is never staged: its fixed file would undo the
 *   upgrade, and the processes that carry it are caught up.
 * Each decision that changes something is on the audit trail. */
enum staging_outcome {
	STAGING_NONE,      /* nothing to decide, or nothing changed */
	STAGING_UNSIGNED,  /* would be staged, but the bundle is unsigned */
	STAGING_REPLACED,  /* would be staged, but an upgrade replaced the target */
	STAGING_STAGED,    /* staged for the next boot */
	STAGING_COMMITTED, /* commit = immediately: see .commit */
	STAGING_UNSTAGED,  /* a staging was withdrawn */
	STAGING_FAILED,    /* the decision could not be recorded: see .reason */
};

struct engine_staging {
	enum staging_outcome outcome;
	char id[BUNDLE_ID_LEN + 1];
	char name[256];          /* the patch's name */
	char target[4096];       /* the file that gets (or got) the fixed file */
	struct commit_report commit; /* STAGING_COMMITTED */
	char reason[HP_ERR_MAX];
};

enum engine_kind { ENGINE_APPLY, ENGINE_REVERT };

struct engine_run {
	enum engine_kind kind;
	const struct bundle *b; /* apply: the verified bundle (saved into the store) */
	const char *id;         /* revert: the patch id */
	const pid_t *pids;
	size_t npids;
	unsigned jobs;          /* 0: twice the cores */
	struct engine_opts o;
	/* Follow the commit policy afterwards (the cli; not the daemon, which
	 * keeps enabled patches applied and stages nothing itself). @all: the
	 * operation was --all (only a revert everywhere withdraws a staging). */
	bool stage;
	bool all;
	/* A failure the caller will retry is not on the audit trail yet (the
	 * daemon's first tries just after an exec). */
	bool quiet_failures;
	/* The caller makes the audit trail durable on its own schedule
	 * (hotpatchd, once a second): no fdatasync per operation. */
	bool sync_later;
	/* Each process's report, in completion order, one at a time. */
	void (*on_report)(const struct engine_report *rep, void *arg);
	void *arg;
};

struct engine_result {
	unsigned count[OUTCOME_FAILED + 1];
	struct engine_staging staging;
};

/* Applies or reverts on every process of @run, across cores. Every write
 * into a process, and every failure to, is on the audit trail, made durable
 * once for the whole operation; nothing is written into any process when
 * the trail cannot take its records. Returns 0 (the outcomes are in
 * @ret->count) or a negative errno with a message when nothing was tried. */
int engine_run(const struct engine_run *run, struct engine_result *ret);

/* Commit and rollback (store/commit.h), on the audit trail. */
void engine_commit(const struct bundle *b, struct commit_report *rep);
void engine_rollback(const struct bundle *b, struct commit_report *rep);

/* enable / disable: which patches hotpatchd keeps applied (the store's
 * state/enabled), on the audit trail, then the commit policy. */
int engine_enable(const char *id, bool enable, struct engine_staging *ret);
/* Is another build than @b's target now at its target's path (a package
 * upgrade replaced it)? */
bool engine_target_replaced(const struct bundle *b);
/* The commit policy alone, after an enable (@enable) or a disable. */
void engine_stage(const char *id, const struct bundle *loaded, bool enable,
		  struct engine_staging *ret);
