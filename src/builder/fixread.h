/* SPDX-License-Identifier: MIT */
/*
 * Reading the fixes between two versions of a Debian source package: the
 * patches the newer one's debian/patches/series adds, and the ones it
 * changes (a cumulative one split by file, fixsplit.c), each with its CVE
 * ids from the patch's header and name and from the changelog entries
 * between the two versions that mention it. The list itself, and the
 * verdicts given to it once the live patch is built, are fixlist.c's.
 */
#pragma once

#include "fixlist.h"

/* @workdir: where the parts of split patches keep their diffs. */
int fixlist_read(const char *old_tree, const char *new_tree, const char *old_version,
		 const char *workdir, struct fixlist *ret);
