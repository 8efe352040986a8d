/* SPDX-License-Identifier: MIT */
/* new-static-var: the fix adds static variables (one initialized, one
 * zeroed) that the changed function uses.
 *   ticket NAME -> take_ticket(NAME)    ping -> pong */
#include <stdio.h>
#include <string.h>

__attribute__((noinline)) static const char *take_ticket(const char *who)
{
	static char out[64];

	snprintf(out, sizeof(out), "ticket for %s", who);
	return out;
}

const char *respond(const char *line)
{
	if (strcmp(line, "ping") == 0)
		return "pong";
	if (strncmp(line, "ticket ", 7) != 0)
		return "unknown";
	return take_ticket(line + 7);
}
