/* SPDX-License-Identifier: MIT */
/*
 * The audit trail: one JSON line per apply, revert, install, remove, commit
 * and refusal, appended to var/log/hotpatch/audit.log and sent to the
 * journal natively (to syslog where no journald listens).
 *
 * Each line carries "prev", the SHA-256 of the line before it (all zeros for
 * the first), so editing or deleting a line breaks the chain at the next
 * one. The hash of the last line and the number of lines are also kept in
 * var/lib/hotpatch/state/audit.head, so truncating the log or editing its
 * last line is detected too. The chain runs on across logrotate's
 * rotations: the first line of a new log links to the last line of the
 * one renamed away. Appends take an exclusive lock (state/audit.lock, not
 * the log, which rotation renames), so the CLI's workers and the daemon can
 * write concurrently. Each line is written whole
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

/* MESSAGE_ID= of the journal entry of each kind of record; the CVEs, the
 * patch id, the pid and the result are fields of their own
 * (HOTPATCH_CVE=, HOTPATCH_PATCH_ID=, HOTPATCH_PID=, HOTPATCH_RESULT=). */
#define AUDIT_ID_APPLY "2f6c1a0e8d5b4c7f9a3e6b1d0c4f8a27"
#define AUDIT_ID_REVERT "9b3d7e21c6a84f0b8e5d2a9c7f1b3e64"
#define AUDIT_ID_INSTALL "c41e8f6a2b9d4e7c8a1f5b3d9e0c6a72"
#define AUDIT_ID_REMOVE "5e0a9c3f7b1d4a6e9c2f8b4d1a7e3c95"
#define AUDIT_ID_COMMIT "a7d2f9b4e1c64c8a9f3b6e2d8c5a1f03"
#define AUDIT_ID_ROLLBACK "3c8e1b6f9a2d4f7b8c4e0a6d2f9b5e18"
#define AUDIT_ID_OTHER "e6b49d1c3f8a4b2e9d7c5a0f1b8e4c36"

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

struct audit_summary {
	size_t lines;        /* lines read and checked */
	size_t files;        /* the log and its rotations still there */
	size_t rotated_away; /* lines written before the oldest one read */
	size_t after_head;   /* lines after the head record on disk: written
			      * just before a power cut took the head's update */
};

/* Checks the whole chain, from the oldest rotation still there
 * (audit.log.N[.gz], see auditfiles.h) to the log's last line. 0: intact
 * (@ret set). Otherwise a negative errno with a message naming the file and
 * line where the chain breaks. */
int audit_verify(struct audit_summary *ret);
