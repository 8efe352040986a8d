/* SPDX-License-Identifier: MIT */
/*
 * Making a patch permanent: replacing the target file on disk with the
 * fixed file a bundle carries (commit), and putting the original back
 * (rollback).
 *
 * Every decision is made from the SHA-256 of the file on disk, never from a
 * remembered state, so a run killed at any step is finished by the next:
 *
 *   on disk          commit                      rollback
 *   the original     replace it (backup first)   nothing to do
 *   the fixed file   nothing to do               restore the backup
 *   anything else    superseded: left alone      superseded: left alone
 *
 * A replacement is crash-safe: the new bytes go to a temp file in the
 * target's directory, get the old file's owner, mode and extended
 * attributes, are fsynced and read back and checked against their SHA-256,
 * and only then renamed over the target, after which the directory is
 * fsynced. A power cut therefore leaves the whole old file or the whole new
 * one. Running processes keep the inode they mapped (and their live patch);
 * processes started later map the new file.
 *
 * dpkg is kept truthful (dpkg.h): a bundle whose fixed file is Debian's own
 * newer file (build --upgrade-to) is committed by installing that package
 * version with dpkg, when its .deb is at hand; any other replaced file of a
 * package is reported, and recorded, as one `dpkg --verify` shows changed.
 *
 * The caller has verified the bundle's signature.
 */
#pragma once

#include <limits.h>
#include <stdbool.h>

#include "error.h"

struct bundle;

enum commit_outcome {
	CO_DONE,       /* the file was replaced (commit) or restored (rollback) */
	CO_ALREADY,    /* the file already was what the operation makes it */
	CO_SUPERSEDED, /* the file is neither the original nor the fix: untouched */
	CO_REFUSED,    /* the bundle or the backup cannot be used: untouched */
	CO_FAILED,     /* an I/O error: the file is whole, old or new */
};

struct commit_report {
	enum commit_outcome outcome;
	int err;
	char target[PATH_MAX];  /* the real path that was (or would be) replaced */
	char backup[PATH_MAX];  /* the original's copy in the store */
	bool have_backup;       /* (CO_ALREADY of a commit: false if hotpatch never made one) */
	char reason[HP_ERR_MAX];
	char dpkg[HP_ERR_MAX];  /* what dpkg knows of the change ("" when nothing to say) */
};

const char *commit_outcome_name(enum commit_outcome o, bool rollback);

/* Replaces @b's target with its fixed file. Records the result (committed
 * or superseded) in the store's commit state. */
void commit_bundle(const struct bundle *b, struct commit_report *rep);

/* Puts the original file back from the backup commit made. Records the
 * result (rolled back or superseded). */
void commit_rollback(const struct bundle *b, struct commit_report *rep);
