/* SPDX-License-Identifier: MIT */
/*
 * hotpatchd's view: for each enabled patch, the processes it is applied in,
 * those pending (with why: its library not mapped yet, a thread busy in a
 * function being replaced, queued), those excluded (with the rule), and
 * those where it failed (with the reason). Rebuilt from the processes
 * themselves when the daemon starts, so a restart loses nothing.
 */
#pragma once

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "bundle.h"

struct buf;
struct bundle;
struct engine_report;
struct json;

enum pstate { PS_PATCHED, PS_PENDING, PS_EXCLUDED, PS_FAILED };

struct pentry {
	pid_t pid;
	enum pstate st;
	char reason[256];
	int64_t seen_ns;   /* when the entry was made */
	int64_t since_ns;  /* first seen (exec or open event), 0 if found by a scan */
	int64_t next_ns;   /* when to look again, while pending */
	unsigned tries;
	bool queued;       /* pending only for a free worker */
};

struct patch {
	char id[BUNDLE_ID_LEN + 1];
	struct bundle *b;
	char objpath[PATH_MAX];
	bool draining; /* disabled or removed: being reverted everywhere */
	bool program;  /* the target is a program, not a library */
	dev_t mark_dev; /* the target file whose opens are watched */
	ino_t mark_ino;
	struct pentry *v;
	size_t n;
};

struct view {
	struct patch *p;
	size_t n;
};

struct patch *view_patch(struct view *v, const char *id);
struct patch *view_add(struct view *v, const char *id);
void view_remove(struct view *v, struct patch *p);
struct pentry *view_entry(struct patch *p, pid_t pid, bool create);
void view_drop(struct patch *p, pid_t pid);
/* Events are read in batches (hotpatchd.c, QUIET_NS): an exit or an exec at
 * @t_ns (CLOCK_MONOTONIC) drops only entries made before it, not one made
 * since for a new process with the same pid or for the new image. */
void view_drop_before(struct patch *p, pid_t pid, int64_t t_ns);
void view_drop_pid(struct view *v, pid_t pid, int64_t t_ns);
void view_free(struct view *v);
void view_json(const struct view *v, struct json *j);
/* The same, for people: one line per process, grouped by state. */
void view_text(const struct view *v, struct buf *out);
const char *pstate_name(enum pstate s);

/* The retry policy. Pending for @reason, looked at again after a backoff:
 * short and rising fast while @young (just after its exec), then doubling
 * up to a minute. */
void view_pend(struct pentry *e, const char *reason, bool young);
/* Settles @e after an apply: patched; pending again after a transient
 * failure (or any failure while @young); else failed for good (returns
 * false: the daemon says so). */
bool view_settle(struct pentry *e, const struct engine_report *rep, bool young);
