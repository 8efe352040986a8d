/* SPDX-License-Identifier: MIT */
/*
 * What a unified diff says about itself: the files and line ranges it
 * changes (new-side numbers, for telling what the diff touched from what
 * changed only by inlining), the CVE ids in its header (and file name), and a
 * one-line description (git's Subject:, DEP-3's Description:, or the first
 * header line).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

struct diff_hunk {
	char *file; /* path as in the diff, prefix (a/, b/) stripped */
	unsigned first, last; /* new-side lines, inclusive */
	unsigned old_first, old_count, new_count; /* as the @@ line says them */
	/* A line it adds or removes holds code: not only comments, blanks or
	 * #include lines (those change no function, and a hunk of them that
	 * reaches none is no part of the fix left out). */
	bool code;
};

struct diff_info {
	struct diff_hunk *hunks;
	size_t nhunks;
	char **cves;
	size_t ncves;
	char *description;
};

int diffparse(const char *path, struct diff_info *ret);
void diffparse_free(struct diff_info *d);
/* Does the diff touch lines [first, last] of a file named like @file? */
bool diff_touches(const struct diff_info *d, const char *file, unsigned first, unsigned last);
/* Adds the CVE ids found in @text (a changelog entry, say) to @d's. */
int diffparse_add_cves(struct diff_info *d, const char *text);
/* Is line @old of some file the diff changes a line the diff leaves alone
 * but moves, to line @moved of the fixed file? (__LINE__ in code after a
 * hunk becomes another number with no other change.) */
bool diff_moves_line(const struct diff_info *d, unsigned old, unsigned moved);
