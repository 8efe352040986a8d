/* SPDX-License-Identifier: MIT */
/* vendored-same-name: the program's own util.c and a vendored deps/lib/util.c
 * share a base name (and so their objects' STT_FILE). The fix changes the
 * program's check_len(); matched by base name, the vendored object would
 * stand for both and the change would be left out.
 *   N -> "check_len(N) vend_len(N)" */
#include <stdio.h>
#include <stdlib.h>

int check_len(int n);
int vend_len(int n);

const char *respond(const char *line)
{
	static char out[64];
	int n = atoi(line);

	snprintf(out, sizeof(out), "%d %d", check_len(n), vend_len(n));
	return out;
}
