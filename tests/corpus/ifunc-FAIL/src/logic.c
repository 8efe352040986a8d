/* SPDX-License-Identifier: MIT */
/* ifunc-FAIL: the fix changes an IFUNC resolver (as glibc's u10 fixed the
 * one choosing wmemset's implementation). The resolver ran once, when the
 * process started, and its choice sits in the GOT: replacing its code
 * changes nothing, so the build refuses rather than claim a fix.
 *   step N -> step(N) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int step_small(int n)
{
	return n + 1;
}

static int step_large(int n)
{
	return n + 2;
}

static int (*pick_step(void))(int)
{
	return getenv("HP_CASE_LARGE") ? step_large : step_small;
}

int step(int n) __attribute__((ifunc("pick_step")));

const char *respond(const char *line)
{
	static char out[32];

	if (strncmp(line, "step ", 5) != 0)
		return "unknown";
	snprintf(out, sizeof(out), "%d", step(atoi(line + 5)));
	return out;
}
