/* SPDX-License-Identifier: MIT */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* Lower-case hex; @out must hold 2 * n + 1 bytes. */
void hex_encode(const uint8_t *in, size_t n, char *out);
/* Returns -EINVAL on a bad digit, an odd length or more than @max bytes. */
int hex_decode(const char *in, uint8_t *out, size_t max, size_t *ret_len);
