/* SPDX-License-Identifier: MIT */
/* static-renumbered-FAIL: the fix adds an assert() to parse_len and changes
 * respond. GCC numbers function-local statics (__PRETTY_FUNCTION__ of each
 * assert(), and respond's out) in the order it makes them, so respond's
 * out.N becomes out.N+1: the replacement respond would reach out by a name
 * that, in the running process, is another variable, or none.
 *   len N  -> parse_len(N)
 *   next N -> next_len(N) */
#include <assert.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

__attribute__((noinline)) static int next_len(int n)
{
	assert(n != INT_MAX); /* a length is never that long */
	return n + 1;
}

/* The length field of a request; -2 when it is not a number. */
__attribute__((noinline)) static int parse_len(const char *s)
{
	char *end;
	long n = strtol(s, &end, 10);

	if (end == s || *end)
		return -2;
	return (int)n;
}

__attribute__((noinline)) static int prev_len(int n)
{
	assert(n != INT_MIN); /* nor that short */
	return n - 1;
}

const char *respond(const char *line)
{
	static char out[32];
	int n;

	if (strncmp(line, "next ", 5) == 0)
		n = next_len(atoi(line + 5));
	else if (strncmp(line, "len ", 4) == 0)
		n = parse_len(line + 4);
	else if (strncmp(line, "prev ", 5) == 0)
		n = prev_len(atoi(line + 5));
	else
		return "unknown";
	snprintf(out, sizeof(out), "%d", n);
	return out;
}
