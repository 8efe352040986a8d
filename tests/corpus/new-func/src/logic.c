/* SPDX-License-Identifier: MIT */
/* new-func: the fix adds a helper, called from the changed function.
 *   greet NAME -> greet(NAME) */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

__attribute__((noinline)) static const char *greet(const char *name)
{
	static char out[64];

	snprintf(out, sizeof(out), "hello %s", name);
	return out;
}

const char *respond(const char *line)
{
	if (strncmp(line, "greet ", 6) != 0)
		return "unknown";
	return greet(line + 6);
}
