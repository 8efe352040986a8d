/* SPDX-License-Identifier: MIT */
/* switch-table: the fix grows a function that comes before an unchanged
 * one compiled to a jump table, so the table's offsets into its function
 * change: the completeness check must see the unchanged function (table.c,
 * linked after this file) as such.
 *   len N   -> parse_len(N)
 *   kind N  -> kind_name(N) */
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

const char *kind_name(int k);

const char *respond(const char *line)
{
	static char out[32];

	if (strncmp(line, "kind ", 5) == 0)
		return kind_name(atoi(line + 5));
	if (strncmp(line, "len ", 4) != 0)
		return "unknown";
	snprintf(out, sizeof(out), "%d", parse_len(line + 4));
	return out;
}
