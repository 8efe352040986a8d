/* SPDX-License-Identifier: MIT */
#include "filedelta.h"

#include <errno.h>
#include <stdlib.h>
#define ZSTD_STATIC_LINKING_ONLY
#include <zstd.h>

#include "error.h"

#define LEVEL 19
#define FILE_MAX (1ULL << 31)

/* A window that spans the original and the fixed file, so matches reach
 * back into the whole original. */
static int window_log(size_t orig_len, size_t fixed_len)
{
	size_t need = orig_len + fixed_len;
	int log = 10;

	while (log < ZSTD_WINDOWLOG_MAX_64 && ((size_t)1 << log) < need)
		log++;
	return log;
}

int filedelta_make(const uint8_t *orig, size_t orig_len, const uint8_t *fixed, size_t fixed_len,
		   struct buf *out)
{
	ZSTD_CCtx *c = ZSTD_createCCtx();
	size_t cap = ZSTD_compressBound(fixed_len), n;
	uint8_t *dst;

	if (!c || orig_len > FILE_MAX || fixed_len > FILE_MAX || !(dst = malloc(cap))) {
		ZSTD_freeCCtx(c);
		return hp_err(-ENOMEM, "out of memory");
	}
	ZSTD_CCtx_setParameter(c, ZSTD_c_compressionLevel, LEVEL);
	ZSTD_CCtx_setParameter(c, ZSTD_c_windowLog, window_log(orig_len, fixed_len));
	ZSTD_CCtx_setParameter(c, ZSTD_c_enableLongDistanceMatching, 1);
	ZSTD_CCtx_refPrefix(c, orig, orig_len);
	n = ZSTD_compress2(c, dst, cap, fixed, fixed_len);
	ZSTD_freeCCtx(c);
	if (ZSTD_isError(n)) {
		free(dst);
		return hp_err(-EIO, "zstd: %s", ZSTD_getErrorName(n));
	}
	buf_put(out, dst, n);
	free(dst);
	return out->oom ? hp_err(-ENOMEM, "out of memory") : 0;
}

int filedelta_apply(const uint8_t *orig, size_t orig_len, const uint8_t *delta, size_t delta_len,
		    size_t expected_len, uint8_t **ret)
{
	ZSTD_DCtx *d = ZSTD_createDCtx();
	uint8_t *dst = malloc(expected_len ? expected_len : 1);
	size_t n;

	if (!d || !dst || expected_len > FILE_MAX) {
		ZSTD_freeDCtx(d);
		free(dst);
		return hp_err(-ENOMEM, "out of memory");
	}
	ZSTD_DCtx_setParameter(d, ZSTD_d_windowLogMax, window_log(orig_len, expected_len));
	ZSTD_DCtx_refPrefix(d, orig, orig_len);
	n = ZSTD_decompressDCtx(d, dst, expected_len, delta, delta_len);
	ZSTD_freeDCtx(d);
	if (ZSTD_isError(n) || n != expected_len) {
		free(dst);
		return hp_err(-EBADMSG, "the bundle's file update does not decompress against this "
					"original file%s%s",
			      ZSTD_isError(n) ? ": " : "", ZSTD_isError(n) ? ZSTD_getErrorName(n) : "");
	}
	*ret = dst;
	return 0;
}
