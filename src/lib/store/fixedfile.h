/* SPDX-License-Identifier: MIT */
/*
 * The fixed file a bundle built from a source diff carries for `commit`:
 * rebuilt from the bundle's file update (a zstd delta against the original,
 * or the whole file compressed) and checked against the size and SHA-256
 * the signed manifest promises, before anything on disk is touched.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct bundle;

enum fixedfile_method {
	FIXEDFILE_ZSTD = 1,       /* zstd of the whole fixed file */
	FIXEDFILE_ZSTD_DELTA = 2, /* zstd delta, the original as its prefix */
};

/* Whether @b carries a fixed file at all (a bundle built from patch source
 * does not: it stays live-only). */
bool fixedfile_present(const struct bundle *b);

/* The fixed file's bytes, from @orig (the original file, whose SHA-256 the
 * caller has checked). -EBADMSG with a message when the payload does not
 * decode to exactly the promised file (a damaged or tampered bundle). */
int fixedfile_build(const struct bundle *b, const uint8_t *orig, size_t orig_len, uint8_t **ret,
		    size_t *ret_len);
