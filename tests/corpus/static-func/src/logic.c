/* SPDX-License-Identifier: MIT */
/* static-func: the bug is in a static function, kept out of line.
 *   len N  -> parse_len(N) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The length field of a request; -2 when it is not a number. */
__attribute__((noinline)) static int parse_len(const char *s)
{
	char *end;
	long n = strtol(s, &end, 10);

	if (end == s || *end)
		return -2;
	return (int)n;
}

const char *respond(const char *line)
{
	static char out[32];

	if (strncmp(line, "len ", 4) != 0)
		return "unknown";
	snprintf(out, sizeof(out), "%d", parse_len(line + 4));
	return out;
}
