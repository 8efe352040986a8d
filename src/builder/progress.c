/* SPDX-License-Identifier: MIT */
#include "progress.h"

#include <stdarg.h>
#include <stdio.h>

static progress_fn sink;
static void *sink_arg;

void progress_set(progress_fn fn, void *arg)
{
	sink = fn;
	sink_arg = arg;
}

void progress(const char *fmt, ...)
{
	char line[4096];
	va_list ap;

	if (!sink)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	sink(PROGRESS_LINE, line, sink_arg);
}

void progress_explain(const char *text)
{
	if (sink && text)
		sink(PROGRESS_EXPLAIN, text, sink_arg);
}
