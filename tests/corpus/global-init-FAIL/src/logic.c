/* SPDX-License-Identifier: MIT */
/* global-init-FAIL: the fix changes the initial value of an existing
 * global. A running process has its own value by now: a live patch cannot
 * change it, so the build must refuse.
 *   check N -> over_limit(N) */
#include <stdlib.h>
#include <string.h>

int limit = 10;

__attribute__((noinline)) int over_limit(int n)
{
	return n > limit;
}

const char *respond(const char *line)
{
	if (strncmp(line, "check ", 6) != 0)
		return "unknown";
	return over_limit(atoi(line + 6)) ? "over" : "ok";
}
