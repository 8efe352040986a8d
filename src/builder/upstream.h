/* SPDX-License-Identifier: MIT */
/*
 * A security update that is a new upstream release (postgresql-15 15.18 ->
 * 15.20) rather than patches in debian/patches: its difference lives in the
 * new tarball. As one fix it would stand or fall whole, so, like a
 * cumulative patch (fixsplit.h), it is split into one part per file that
 * differs between the two versions' trees (debian/ and quilt's .pc/ left
 * out), each judged on its own: a struct layout change in one module
 * refuses that module's part, not the fixes in the others. CVE ids come from
 * the Debian changelog's bullets that name no patch and from the lines the
 * release added to its NEWS, CHANGES or ChangeLog; each sentence's ids go to
 * the parts whose file defines a function it names, or is the file it names.
 */
#pragma once

#include <stddef.h>

#include "fixlist.h"

/* The newer tree's upstream version when it differs from @old_version's
 * (free() it), else NULL. */
char *upstream_newer(const char *new_tree, const char *old_version);

/* Appends the parts of upstream release @whole ("upstream 1.1") to @fl: one
 * per file the trees differ in that no part yet covers (diffs under
 * @workdir). */
int upstream_split(struct fixlist *fl, const char *old_tree, const char *new_tree,
		   const char *whole, const char *workdir);

/* Gives the parts of @whole the CVE ids of the changelog @bullets that name
 * no patch of @fl, and of the release's NEWS-like files. */
void upstream_cves(struct fixlist *fl, const char *new_tree, const char *whole, char **bullets,
		   size_t nbullets);
