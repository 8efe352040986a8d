/* SPDX-License-Identifier: MIT */
/*
 * The audit trail: one JSON line per apply, revert, install, remove, commit
 * and refusal, appended to var/log/hotpatch/audit.log and sent to syslog.
 *
 * Each line carries "prev", the SHA-256 of the line before it (all zeros for
 * the first), so editing or deleting a line breaks the chain at the next
 * one. The hash of the last line and the number of lines are also kept in
 * var/lib/hotpatch/state/audit.head, so truncating the log or editing its
 * last line is detected too. Appends take an exclusive lock, so the CLI's
 * workers and the daemon can write concurrently. Each line is written whole
 * or not at all (one write(2); a short write on a full disk is cut back).
 * Lines reach the page cache at once and the disk at audit_sync(), once per
 * command: a power cut can lose the last command's lines, never reorder or
 * corrupt earlier ones.
 *
 * An operation that writes into processes first calls audit_reserve(): a
 * log that cannot take its records (a full disk, a read-only directory)
 * refuses the operation before any process is touched.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct manifest;

struct audit_event {
	const char *op;     /* apply, revert, install, remove, commit, rollback, ... */
	const char *result; /* patched, reverted, refused, failed, skipped, ok, ... */
	const char *patch_id;
	const struct manifest *manifest; /* CVEs, target, build-id; may be NULL */
	pid_t pid;                       /* 0 when not about a process */
	const char *reason;              /* why, for refusals and failures */
	int64_t pause_us;                /* -1 when not applicable */
};

/* Never fails the operation it records: a log that cannot be written is
 * kept for audit_trouble(), and the event still goes to syslog. Returns 0 or
 * a negative errno. */
int audit_log(const struct audit_event *ev);
/* Why the first append of this process failed, or NULL: the program says so
 * (once) before it exits. */
const char *audit_trouble(void);

/* Sets aside room in the log for @lines records (blocks preallocated past
 * its end, and its head file), so that the operation that follows can
 * record what it does. 0, or a negative errno with a message: the caller
 * must then not change any process. */
int audit_reserve(size_t lines);

/* Whether this process appended a line (audit_sync() has work to do). */
bool audit_written(void);

/* Makes every line logged so far durable (fdatasync of the log and its
 * head). Commands call it once at the end instead of once per line. */
int audit_sync(void);

/* Checks the whole chain. 0: intact (ret_lines set). Otherwise a negative
 * errno with a message naming the first bad line. */
int audit_verify(size_t *ret_lines);
