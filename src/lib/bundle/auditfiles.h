/* SPDX-License-Identifier: MIT */
/*
 * The audit log and its rotations, in the chain's order. logrotate (the
 * rule hotpatch ships) renames audit.log to audit.log.1, each earlier
 * rotation one number up, and compresses them a rotation later
 * (audit.log.2.gz). The chain of "prev" hashes runs from the oldest
 * rotation still there to the last line of audit.log, so the files read
 * oldest first are the chain read from its start.
 */
#pragma once

#include <stddef.h>

struct audit_files {
	char **paths; /* oldest first; the log itself last, when it exists */
	size_t n;
};

/* The rotations of @log (audit.log.N and audit.log.N.gz, N >= 1) found
 * beside it, then @log. 0, or a negative errno with a message (-EACCES: the
 * directory cannot be read; -EBADMSG: two files claim one number). */
int audit_files_list(const char *log, struct audit_files *ret);
void audit_files_free(struct audit_files *f);

struct audit_reader;

/* Opens one file of the chain, compressed with gzip or not. */
int audit_reader_open(const char *path, struct audit_reader **ret);
/* The next line, without its newline, valid until the next call: 1; 0 at
 * the end; or a negative errno with a message (a damaged compressed file,
 * a line longer than @max). */
int audit_reader_next(struct audit_reader *r, size_t max, const char **ret_line,
		      size_t *ret_len);
void audit_reader_close(struct audit_reader *r);
