/* SPDX-License-Identifier: MIT */
/* line-moved: the fix adds lines to parse_len, above two functions that
 * assert(): their code holds __LINE__, which the fix moves, and nothing
 * else of theirs changes.
 *   len N  -> parse_len(N) */
#include <assert.h>
#include <limits.h>
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

__attribute__((noinline)) static const char *format_len(int n)
{
	static char out[32];

	assert(n != INT_MIN); /* parse_len never says that */
	snprintf(out, sizeof(out), "%d", n);
	return out;
}

const char *respond(const char *line)
{
	assert(line != NULL);
	if (strncmp(line, "len ", 4) != 0)
		return "unknown";
	return format_len(parse_len(line + 4));
}
