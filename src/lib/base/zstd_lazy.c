/* SPDX-License-Identifier: MIT */
/*
 * libzstd, loaded when first needed (lazylib.h): by the file updates of
 * bundles (filedelta.c, fixedfile.c), which `build` makes and `commit`
 * applies; an apply into processes never needs it. These are the functions
 * hotpatch calls.
 */
#include <zstd.h>

#include "lazylib.h"

static struct lazy_lib zs = LAZY_LIB(LIBZSTD_SONAME, "libzstd1");

size_t ZSTD_compressBound(size_t srcSize)
{
	LAZY_FORWARD(zs, ZSTD_compressBound, (srcSize));
}

unsigned ZSTD_isError(size_t code)
{
	LAZY_FORWARD(zs, ZSTD_isError, (code));
}

const char *ZSTD_getErrorName(size_t code)
{
	LAZY_FORWARD(zs, ZSTD_getErrorName, (code));
}

ZSTD_CCtx *ZSTD_createCCtx(void)
{
	LAZY_FORWARD(zs, ZSTD_createCCtx, ());
}

size_t ZSTD_freeCCtx(ZSTD_CCtx *cctx)
{
	LAZY_FORWARD(zs, ZSTD_freeCCtx, (cctx));
}

size_t ZSTD_CCtx_setParameter(ZSTD_CCtx *cctx, ZSTD_cParameter param, int value)
{
	LAZY_FORWARD(zs, ZSTD_CCtx_setParameter, (cctx, param, value));
}

size_t ZSTD_CCtx_refPrefix(ZSTD_CCtx *cctx, const void *prefix, size_t prefixSize)
{
	LAZY_FORWARD(zs, ZSTD_CCtx_refPrefix, (cctx, prefix, prefixSize));
}

size_t ZSTD_compress2(ZSTD_CCtx *cctx, void *dst, size_t dstCapacity, const void *src,
		      size_t srcSize)
{
	LAZY_FORWARD(zs, ZSTD_compress2, (cctx, dst, dstCapacity, src, srcSize));
}

size_t ZSTD_decompress(void *dst, size_t dstCapacity, const void *src, size_t compressedSize)
{
	LAZY_FORWARD(zs, ZSTD_decompress, (dst, dstCapacity, src, compressedSize));
}

ZSTD_DCtx *ZSTD_createDCtx(void)
{
	LAZY_FORWARD(zs, ZSTD_createDCtx, ());
}

size_t ZSTD_freeDCtx(ZSTD_DCtx *dctx)
{
	LAZY_FORWARD(zs, ZSTD_freeDCtx, (dctx));
}

size_t ZSTD_DCtx_setParameter(ZSTD_DCtx *dctx, ZSTD_dParameter param, int value)
{
	LAZY_FORWARD(zs, ZSTD_DCtx_setParameter, (dctx, param, value));
}

size_t ZSTD_DCtx_refPrefix(ZSTD_DCtx *dctx, const void *prefix, size_t prefixSize)
{
	LAZY_FORWARD(zs, ZSTD_DCtx_refPrefix, (dctx, prefix, prefixSize));
}

size_t ZSTD_decompressDCtx(ZSTD_DCtx *dctx, void *dst, size_t dstCapacity, const void *src,
			   size_t srcSize)
{
	LAZY_FORWARD(zs, ZSTD_decompressDCtx, (dctx, dst, dstCapacity, src, srcSize));
}
