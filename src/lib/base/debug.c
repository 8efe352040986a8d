/* SPDX-License-Identifier: MIT */
#include "debug.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

bool hp_debug_enabled(void)
{
	static int enabled = -1;

	if (enabled < 0) {
		const char *e = getenv("HOTPATCH_DEBUG");

		enabled = e && *e && *e != '0';
	}
	return enabled;
}

void hp_debug(const char *fmt, ...)
{
	va_list ap;

	if (!hp_debug_enabled())
		return;
	fprintf(stderr, "hotpatch[debug]: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}
