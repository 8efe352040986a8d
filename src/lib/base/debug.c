/* SPDX-License-Identifier: MIT */
#include "debug.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

static hp_debug_sink sink;

void hp_debug_set_sink(hp_debug_sink s)
{
	sink = s;
}

bool hp_debug_enabled(void)
{
	static int enabled = -1;

	if (enabled < 0) {
		const char *e = getenv("HOTPATCH_DEBUG");

		enabled = e && *e && *e != '0';
	}
	return enabled && sink;
}

void hp_debug(const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	if (!hp_debug_enabled())
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	sink(line);
}
