/* SPDX-License-Identifier: MIT */
/* fixedfile.c: the fixed file is rebuilt exactly as the manifest promises,
 * or refused. */
#include "fixedfile.h"

#include <sodium.h>
#include <zstd.h>

#include "bundle.h"
#include "filedelta.h"
#include "test.h"

#define LEN 4096

static uint8_t orig[LEN], fixed[LEN];

/* A bundle as bundle_load() would leave it, with only what commit reads. */
static void make(struct bundle *b, struct buf *payload, uint8_t method)
{
	for (size_t i = 0; i < LEN; i++) {
		orig[i] = (uint8_t)(i * 7);
		fixed[i] = orig[i];
	}
	fixed[100] ^= 0x55; /* the fix: a few bytes differ */
	fixed[2000] ^= 0xaa;
	*b = (struct bundle){.id = "0011223344556677"};
	b->manifest.flags = MANIFEST_HAS_FILE_UPDATE;
	b->manifest.file_method = method;
	b->manifest.file_size_fixed = LEN;
	crypto_hash_sha256(b->manifest.file_sha_orig, orig, LEN);
	crypto_hash_sha256(b->manifest.file_sha_fixed, fixed, LEN);
	if (method == FIXEDFILE_ZSTD) {
		uint8_t z[LEN * 2];
		size_t n = ZSTD_compress(z, sizeof(z), fixed, LEN, 3);

		ASSERT_FALSE(ZSTD_isError(n));
		buf_put(payload, z, n);
	} else {
		ASSERT_OK(filedelta_make(orig, LEN, fixed, LEN, payload));
	}
	b->file_update = payload->data;
	b->file_update_size = payload->len;
}

TEST(delta_rebuilds_the_fixed_file)
{
	struct buf p = {0};
	struct bundle b;
	uint8_t *out = NULL;
	size_t len = 0;

	make(&b, &p, FIXEDFILE_ZSTD_DELTA);
	ASSERT_TRUE(p.len < LEN / 4);
	ASSERT_OK(fixedfile_build(&b, orig, LEN, &out, &len));
	ASSERT_EQ(len, LEN);
	ASSERT_MEMEQ(out, fixed, LEN);
	free(out);
	buf_free(&p);
}

TEST(whole_file_method)
{
	struct buf p = {0};
	struct bundle b;
	uint8_t *out = NULL;
	size_t len = 0;

	make(&b, &p, FIXEDFILE_ZSTD);
	ASSERT_OK(fixedfile_build(&b, orig, LEN, &out, &len));
	ASSERT_MEMEQ(out, fixed, LEN);
	free(out);
	buf_free(&p);
}

TEST(promised_digest_must_match)
{
	struct buf p = {0};
	struct bundle b;
	uint8_t *out = NULL;
	size_t len = 0;

	make(&b, &p, FIXEDFILE_ZSTD_DELTA);
	b.manifest.file_sha_fixed[0] ^= 1;
	ASSERT_ERR(fixedfile_build(&b, orig, LEN, &out, &len), -EBADMSG);
	ASSERT_CONTAINS(hp_err_msg(-EBADMSG), "manifest promises");
	ASSERT_NULL(out);
	buf_free(&p);
}

TEST(promised_size_must_match)
{
	struct buf p = {0};
	struct bundle b;
	uint8_t *out = NULL;
	size_t len = 0;

	make(&b, &p, FIXEDFILE_ZSTD);
	b.manifest.file_size_fixed = LEN - 1;
	ASSERT_ERR(fixedfile_build(&b, orig, LEN, &out, &len), -EBADMSG);
	ASSERT_NULL(out);
	buf_free(&p);
}

TEST(delta_against_another_original_is_refused)
{
	struct buf p = {0};
	struct bundle b;
	uint8_t *out = NULL, other[LEN];
	size_t len = 0;

	make(&b, &p, FIXEDFILE_ZSTD_DELTA);
	memset(other, 0x42, sizeof(other));
	ASSERT_ERR(fixedfile_build(&b, other, LEN, &out, &len), -EBADMSG);
	ASSERT_NULL(out);
	buf_free(&p);
}

TEST(unknown_method_and_no_file)
{
	struct buf p = {0};
	struct bundle b;
	uint8_t *out = NULL;
	size_t len = 0;

	make(&b, &p, FIXEDFILE_ZSTD);
	b.manifest.file_method = 9;
	ASSERT_ERR(fixedfile_build(&b, orig, LEN, &out, &len), -EPROTONOSUPPORT);
	ASSERT_CONTAINS(hp_err_msg(-EPROTONOSUPPORT), "upgrade hotpatch");
	b.manifest.flags = 0;
	ASSERT_FALSE(fixedfile_present(&b));
	ASSERT_ERR(fixedfile_build(&b, orig, LEN, &out, &len), -ENODATA);
	ASSERT_CONTAINS(hp_err_msg(-ENODATA), "live-only");
	buf_free(&p);
}
