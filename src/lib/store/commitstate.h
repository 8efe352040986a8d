/* SPDX-License-Identifier: MIT */
/*
 * What `commit` and `rollback` did to each bundle, in the store: one small
 * text file per bundle id under var/lib/hotpatch/state/commit, replaced
 * whole (temp file, fsync, rename, fsync of the directory), so a power cut
 * leaves the old record or the new one.
 *
 * The records are a journal of decisions, not the truth about the disk:
 * commit and rollback decide from the target file's SHA-256 every time, so a
 * record lost in a crash is rewritten by the next run. A record is the only
 * place where "staged" lives, because at boot no process carries the patch
 * any more.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "bundle.h"

enum commit_state {
	CS_NONE,        /* no record: installed, maybe applied, not staged */
	CS_STAGED,      /* to be committed by `commit --staged` (at boot) */
	CS_COMMITTED,   /* the fixed file is on disk; the backup is in the store */
	CS_SUPERSEDED,  /* the file on disk is neither the original nor the fix */
	CS_ROLLED_BACK, /* the original is back on disk */
};

struct commit_record {
	enum commit_state state;
	int64_t when;        /* seconds since the epoch */
	char target[4096];   /* the file, as committed (the real path) */
	char dpkg[32];       /* how dpkg knows it: "dpkg-installed" (the package version
			      * whose file it is), "dpkg-modified" (a package's file
			      * replaced: dpkg --verify reports it), "" (no package's) */
};

const char *commitstate_name(enum commit_state s);
/* CS_NONE (and 0) when there is no record; a malformed record is an error. */
int commitstate_get(const char *id, struct commit_record *ret);
/* Writes the record crash-safely; @target may be NULL. CS_NONE removes it. */
int commitstate_set(const char *id, enum commit_state state, const char *target);
/* The same, with how dpkg knows the change (struct commit_record's dpkg;
 * NULL: the record's, kept). */
int commitstate_set_note(const char *id, enum commit_state state, const char *target,
			 const char *dpkg);
/* The ids that have a record (sorted); the caller frees each and the array. */
int commitstate_list(char ***ret, size_t *ret_n);

/* A bundle leaves the store: its record and its backup go too (the file on
 * disk stays as it is). Sets @ret_had_backup. */
int commitstate_forget(const char *id, bool *ret_had_backup);

/* var/lib/hotpatch/backups/<id>: the original file, root-only. */
void commitstate_backup_path(const char *id, char *ret, size_t len);
/* Creates the record and backup directories with root-only modes. */
int commitstate_ensure_dirs(void);
