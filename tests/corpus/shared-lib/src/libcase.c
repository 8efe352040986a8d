/* SPDX-License-Identifier: MIT */
/* shared-lib: the bug is in an exported function of libcase.so, which two
 * running processes use.
 *   quota N -> quota_left(N) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* What is left of a quota of 100 after @used. */
int quota_left(int used)
{
	if (used > 100)
		return 0;
	return 100 - used;
}

const char *respond(const char *line)
{
	static char out[32];

	if (strncmp(line, "quota ", 6) != 0)
		return "unknown";
	snprintf(out, sizeof(out), "%d", quota_left(atoi(line + 6)));
	return out;
}
