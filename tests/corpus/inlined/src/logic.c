/* SPDX-License-Identifier: MIT */
/* inlined: the bug is in a small function that is always inlined into its
 * two callers; only the callers exist in the binary.
 *   header N -> header_len(N)    body N -> body_len(N) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The length a request may claim. */
static inline __attribute__((always_inline)) int clamp_len(int n)
{
	return n > 100 ? 100 : n;
}

/* Both callers stay out of line, and differ, so that neither is merged
 * into respond() or into the other. */
__attribute__((noinline)) int header_len(int n)
{
	return clamp_len(n) + 4;
}

__attribute__((noinline)) static int body_len(int n)
{
	return clamp_len(n - 4) * 3;
}

const char *respond(const char *line)
{
	static char out[32];

	if (strncmp(line, "header ", 7) == 0)
		snprintf(out, sizeof(out), "%d", header_len(atoi(line + 7)));
	else if (strncmp(line, "body ", 5) == 0)
		snprintf(out, sizeof(out), "%d", body_len(atoi(line + 5)));
	else
		return "unknown";
	return out;
}
