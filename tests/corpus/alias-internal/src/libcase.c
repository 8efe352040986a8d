/* SPDX-License-Identifier: MIT */
/* alias-internal: libxml2's elfgcchack.h pattern. The function is defined
 * under a hidden name, quota_left__internal_alias, which the library's own
 * calls use; the exported quota_left is an alias at the same address. The
 * linked build has two symbols for one function and both differ when it
 * changes: replacing the function replaces both.
 *   quota N -> quota_left(N), called through the hidden name */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int quota_left(int used);
extern __typeof(quota_left) quota_left__internal_alias __attribute__((visibility("hidden")));
#define quota_left quota_left__internal_alias

/* What is left of a quota of 100 after @used. */
__attribute__((noinline)) int quota_left(int used)
{
	if (used > 100)
		return 0;
	return 100 - used;
}

#undef quota_left
extern __typeof(quota_left) quota_left __attribute__((alias("quota_left__internal_alias")));
#define quota_left quota_left__internal_alias

const char *respond(const char *line)
{
	static char out[32];

	if (strncmp(line, "quota ", 6) != 0)
		return "unknown";
	snprintf(out, sizeof(out), "%d", quota_left(atoi(line + 6)));
	return out;
}
