/* SPDX-License-Identifier: MIT */
/* string-const: the fix changes string literals: one returned as is, one a
 * format. usage() and respond() do not change, though respond()'s strings
 * move (in a plain build, they follow the changed ones in one section).
 *   banner [-v] -> banner()    count N -> describe(N)    help -> usage() */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

__attribute__((noinline)) static const char *banner(int verbose)
{
	return verbose ? "corpus server 1.0, a line server" : "corpus server 1.0";
}

__attribute__((noinline)) static const char *describe(int n)
{
	static char out[64];

	snprintf(out, sizeof(out), "%d items", n);
	return out;
}

__attribute__((noinline)) static const char *usage(void)
{
	return "usage: banner [-v], count N, help";
}

const char *respond(const char *line)
{
	if (strcmp(line, "banner") == 0 || strcmp(line, "banner -v") == 0)
		return banner(line[6] != '\0');
	if (strncmp(line, "count ", 6) == 0)
		return describe(atoi(line + 6));
	if (strcmp(line, "help") == 0)
		return usage();
	return "unknown";
}
