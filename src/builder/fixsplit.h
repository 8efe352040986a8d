/* SPDX-License-Identifier: MIT */
/*
 * A patch the newer version changed (a cumulative update, such as glibc's
 * git-updates.diff), split into one fix per source file, so that each file's
 * change gets its own verdict; and the changelog's sub-items' CVE ids given
 * to the files they name.
 */
#pragma once

#include <stdbool.h>

#include "fixlist.h"

/* Appends to @fl one fix per file that patch @name changes between the
 * trees (their diffs written under @workdir). */
int fixsplit(struct fixlist *fl, const char *old_tree, const char *new_tree, const char *name,
	     const char *workdir);
/* One part of @whole: @file's difference between the trees, written to
 * @out. 0 (no part) when the file is the same in both. */
int fixsplit_file(struct fixlist *fl, const char *old_tree, const char *new_tree,
		  const char *whole, const char *file, const char *out);
/* A changelog bullet that names split patch @whole: each sub-item's CVE ids
 * go to the parts whose functions (as @new_tree defines them), or whose
 * file, it names. */
void fixsplit_bullet(struct fixlist *fl, const char *new_tree, const char *whole,
		     const char *bullet);
/* A release-notes file (NEWS, CHANGES, ChangeLog, RELEASE*, any case): it
 * names changes, and neither is nor uses code. */
bool fixsplit_is_notes(const char *file);
/* Parts left out must not leave others behind that need them: each part
 * still kept that uses an identifier a refused part brings (one the older
 * tree has nowhere, such as a new macro) is refused with it, until none
 * is. Returns how many were. */
size_t fixsplit_dependents(struct fixlist *fl, const char *old_tree, const char *workdir);
