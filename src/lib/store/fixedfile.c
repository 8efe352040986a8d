/* SPDX-License-Identifier: MIT */
#include "fixedfile.h"

#include <errno.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#include "bundle.h"
#include "error.h"
#include "filedelta.h"
#include "hex.h"

/* The same bound the builder uses for the files it reads. */
#define FIXED_MAX (1ULL << 31)

bool fixedfile_present(const struct bundle *b)
{
	return (b->manifest.flags & MANIFEST_HAS_FILE_UPDATE) && b->file_update;
}

static int decompress_whole(const struct bundle *b, size_t want, uint8_t **ret)
{
	uint8_t *dst = malloc(want ? want : 1);
	size_t n;

	if (!dst)
		return hp_err(-ENOMEM, "out of memory");
	n = ZSTD_decompress(dst, want, b->file_update, b->file_update_size);
	if (ZSTD_isError(n) || n != want) {
		free(dst);
		return hp_err(-EBADMSG, "the bundle's fixed file does not decompress to %zu bytes%s%s",
			      want, ZSTD_isError(n) ? ": " : "",
			      ZSTD_isError(n) ? ZSTD_getErrorName(n) : "");
	}
	*ret = dst;
	return 0;
}

static int check_digest(const struct bundle *b, const uint8_t *data, size_t len)
{
	uint8_t got[32];
	char hgot[65], hwant[65];

	crypto_hash_sha256(got, data, len);
	if (memcmp(got, b->manifest.file_sha_fixed, 32) == 0)
		return 0;
	hex_encode(got, 32, hgot);
	hex_encode(b->manifest.file_sha_fixed, 32, hwant);
	return hp_err(-EBADMSG, "the bundle's fixed file has SHA-256 %.16s..., not the %.16s... its "
				"manifest promises; refusing it (damaged or tampered bundle)",
		      hgot, hwant);
}

int fixedfile_build(const struct bundle *b, const uint8_t *orig, size_t orig_len, uint8_t **ret,
		    size_t *ret_len)
{
	size_t want = b->manifest.file_size_fixed;
	uint8_t *data = NULL;
	int r;

	if (!fixedfile_present(b))
		return hp_err(-ENODATA, "bundle %s carries no fixed file (built from patch source: "
					"it stays live-only)",
			      b->id);
	if (want > FIXED_MAX)
		return hp_err(-EFBIG, "the bundle's fixed file is too large (%zu bytes)", want);
	if (b->manifest.file_method == FIXEDFILE_ZSTD_DELTA)
		r = filedelta_apply(orig, orig_len, b->file_update, b->file_update_size, want,
				    &data);
	else if (b->manifest.file_method == FIXEDFILE_ZSTD)
		r = decompress_whole(b, want, &data);
	else
		r = hp_err(-EPROTONOSUPPORT, "the bundle's fixed file uses method %u, which this "
					     "hotpatch does not know; upgrade hotpatch",
			   b->manifest.file_method);
	if (r == 0)
		r = check_digest(b, data, want);
	else if (r == -EBADMSG)
		r = hp_err_prefix(r, "refusing the bundle's fixed file (damaged or tampered): ");
	if (r < 0) {
		free(data);
		return r;
	}
	*ret = data;
	*ret_len = want;
	return 0;
}
