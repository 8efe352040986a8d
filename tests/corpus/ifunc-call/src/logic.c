/* SPDX-License-Identifier: MIT */
/* ifunc-call: the fixed function calls an IFUNC of the target (as glibc's
 * fixed functions call mempcpy). The replacement must call what the
 * process's resolver chose when it started, which the target's own GOT
 * holds, not the resolver.
 *   check N -> check(N) */
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

__attribute__((noinline)) int check(int n)
{
	int r = step(n);

	return r > 1000 ? 1000 : r;
}

const char *respond(const char *line)
{
	static char out[32];

	if (strncmp(line, "check ", 6) != 0)
		return "unknown";
	snprintf(out, sizeof(out), "%d", check(atoi(line + 6)));
	return out;
}
