/* SPDX-License-Identifier: MIT */
/* thread-local: the fixed function reads a thread-local variable of
 * libcase.so that unchanged code sets, compiled initial-exec as libc's own
 * (errno) are: the replacement must reach each thread's own copy, through
 * the library's GOT slot for it, or it reads the wrong limit.
 *   quota N -> quota_left(N) under a limit of 100 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static __thread int limit;

/* What is left of the thread's quota after @used. */
int quota_left(int used)
{
	if (used > limit)
		return 0;
	return limit - used;
}

const char *respond(const char *line)
{
	static char out[32];

	if (strncmp(line, "quota ", 6) != 0)
		return "unknown";
	limit = 100;
	snprintf(out, sizeof(out), "%d", quota_left(atoi(line + 6)));
	limit = 0;
	return out;
}
