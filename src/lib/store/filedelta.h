/* SPDX-License-Identifier: MIT */
/*
 * The fixed file a bundle carries for `commit`, as a zstd delta against the
 * original file (zstd's "patch from" mode: the original is the dictionary
 * prefix, with long-distance matching over the whole file), which is usually
 * a small fraction of the file. The original is on disk at commit time and
 * is checked by SHA-256 before the delta is applied.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

int filedelta_make(const uint8_t *orig, size_t orig_len, const uint8_t *fixed, size_t fixed_len,
		   struct buf *out);
/* @expected_len: the fixed file's size, from the signed manifest. */
int filedelta_apply(const uint8_t *orig, size_t orig_len, const uint8_t *delta, size_t delta_len,
		    size_t expected_len, uint8_t **ret);
