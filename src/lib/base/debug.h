/* SPDX-License-Identifier: MIT */
/* Developer tracing: with HOTPATCH_DEBUG=1, the timing of the phases of each
 * operation, one line at a time, to the sink the program sets (the cli and
 * the daemon print it on stderr; library code never prints). Off by
 * default, and cheap when off. */
#pragma once

#include <stdbool.h>

typedef void (*hp_debug_sink)(const char *line);

/* Where trace lines go; NULL (the default) drops them. */
void hp_debug_set_sink(hp_debug_sink sink);
bool hp_debug_enabled(void);
void hp_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
