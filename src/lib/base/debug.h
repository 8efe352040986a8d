/* SPDX-License-Identifier: MIT */
/* Developer tracing: HOTPATCH_DEBUG=1 prints timing of the phases of each
 * operation to stderr. Off by default, and cheap when off. */
#pragma once

#include <stdbool.h>

bool hp_debug_enabled(void);
void hp_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
