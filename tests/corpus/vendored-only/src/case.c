/* SPDX-License-Identifier: MIT */
/* vendored-only: like vendored-same-name, but the fix changes nothing but
 * the program's util.c. Matched by base name, the vendored object stands for
 * both, no change is found, and the build would say "nothing to patch":
 * that verdict must be checked too.
 *   N -> "port(N) vport(N)" */
#include <stdio.h>
#include <stdlib.h>

int port(int n);
int vport(int n);

const char *respond(const char *line)
{
	static char out[64];
	int n = atoi(line);

	snprintf(out, sizeof(out), "%d %d", port(n), vport(n));
	return out;
}
