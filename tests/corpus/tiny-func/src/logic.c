/* SPDX-License-Identifier: MIT */
/* tiny-func: the bug is in a function shorter than the 5-byte jump that
 * redirects it (xor %eax,%eax; ret): the jump also covers the alignment
 * filler after it.
 *   len N  -> N, or -1 above 64 in strict mode */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Kept out of line and out of interprocedural analysis, as a function
 * another file could call. */
__attribute__((noipa)) int strict_mode(void)
{
	return 0;
}

const char *respond(const char *line)
{
	static char out[32];
	long n;

	if (strncmp(line, "len ", 4) != 0)
		return "unknown";
	n = strtol(line + 4, NULL, 10);
	if (strict_mode() && (n < 0 || n > 64))
		return "-1";
	snprintf(out, sizeof(out), "%ld", n);
	return out;
}
