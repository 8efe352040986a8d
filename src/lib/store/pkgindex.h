/* SPDX-License-Identifier: MIT */
/*
 * Which package version a build came from, remembered before apt replaces
 * it: the apt hook (`catch-up --apt-hook pre`) records, for each file of a
 * package about to be upgraded that a running process maps, its build-id,
 * the package, the version being replaced and the version coming. After the
 * upgrade the old file is gone from disk and dpkg knows only the new
 * version, so this record is how `catch-up` says which version a process
 * still runs.
 *
 * One text file, state/catch-up/builds, a line per build:
 * BUILDID \t PACKAGE \t OLD-VERSION \t NEW-VERSION \t PATH. It is replaced
 * whole (temp file, rename), holds at most PKGINDEX_MAX lines (the oldest
 * go first) and is read with a size limit: it is a cache of facts dpkg had,
 * not a journal.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#define PKGINDEX_MAX 4096

struct pkgindex_entry {
	char build_id[2 * 64 + 1]; /* hex */
	char package[128];
	char version[128];     /* the version of this build */
	char new_version[128]; /* the version apt was installing over it */
	char path[1024];
};

/* Adds (or refreshes) the entries @v[0..n). */
int pkgindex_add(const struct pkgindex_entry *v, size_t n);
/* The newest entry for @build_id (hex); -ENOENT when there is none. */
int pkgindex_find(const char *build_id, struct pkgindex_entry *ret);
