/* SPDX-License-Identifier: MIT */
/* bundle.c: a bundle read back is exactly the bundle written; a damaged one
 * is refused before anything in it is used; trust comes before parsing. */
#include "bundle.h"

#include <sodium.h>

#include "buf.h"
#include "test.h"

/* Layout from bundle.c (not exported): a 32-byte header, then 56-byte
 * section entries (type u32, flags u32, offset u64, size u64, sha256). */
#define HDR_SIZE 32
#define HDR_RESERVED_OFF 24
#define SEC_SIZE 56
#define SEC_FLAGS_OFF 4
#define MAX_TEST_SECS 4

static uint8_t code[8] = {0x55, 0x48, 0x89, 0xe5, 0x31, 0xc0, 0x5d, 0xc3};
static struct manifest_func func = {"f", "f.c", 0x1130, sizeof(code), 0, code, "f_new", 0x40};
static const uint8_t object[] = "\x7f" "ELF pretend object bytes";
static const char explain[] = "Fixes the overflow in f().\n";
static const uint8_t update[] = {0x28, 0xb5, 0x2f, 0xfd, 1, 2, 3};

static void sample_manifest(struct manifest *m)
{
	*m = (struct manifest){
		.name = "fix-f",
		.description = "d",
		.target_path = "/usr/bin/t",
		.build_id = {0xab, 0xcd},
		.build_id_len = 2,
		.target_type = 3,
		.funcs = &func,
		.nfuncs = 1,
		.tool_version = "0.1.0",
	};
}

static const struct bundle_load_opts insecure = {.insecure = true};

/* Writes a bundle with manifest, object and explanation (the smallest
 * realistic one) to a temp dir; returns the path and the file's bytes. */
static char *write_sample(const char *dir, bool with_update, uint8_t **ret_data,
			  size_t *ret_size)
{
	struct manifest m;
	struct bundle_parts parts = {.manifest = &m, .object = object,
				     .object_size = sizeof(object), .explain = explain};
	char *path;

	sample_manifest(&m);
	if (with_update) {
		parts.file_update = update;
		parts.file_update_size = sizeof(update);
	}
	ASSERT_TRUE(asprintf(&path, "%s/b.hpb", dir) > 0);
	ASSERT_OK(bundle_write(path, &parts));
	if (ret_data)
		*ret_data = (uint8_t *)test_read_file(path, ret_size);
	return path;
}

static void assert_sample(const struct bundle *b, bool with_update)
{
	ASSERT_STREQ(b->manifest.name, "fix-f");
	ASSERT_STREQ(b->manifest.target_path, "/usr/bin/t");
	ASSERT_EQ(b->manifest.build_id_len, 2);
	ASSERT_EQ(b->manifest.nfuncs, 1);
	ASSERT_STREQ(b->manifest.funcs[0].new_name, "f_new");
	ASSERT_MEMEQ(b->manifest.funcs[0].expected, code, sizeof(code));
	ASSERT_EQ(b->object_size, sizeof(object));
	ASSERT_MEMEQ(b->object, object, sizeof(object));
	ASSERT_EQ(b->explain_len, strlen(explain));
	ASSERT_MEMEQ(b->explain, explain, strlen(explain));
	if (with_update) {
		ASSERT_EQ(b->file_update_size, sizeof(update));
		ASSERT_MEMEQ(b->file_update, update, sizeof(update));
	} else {
		ASSERT_NULL(b->file_update);
	}
}

TEST(write_then_load_round_trip)
{
	const char *dir = test_tmpdir();
	struct bundle *b = NULL;
	uint8_t sha[32], *data;
	char *path, hex[17];
	size_t size;

	path = write_sample(dir, true, &data, &size);
	ASSERT_OK(bundle_load(path, &insecure, &b));
	assert_sample(b, true);
	ASSERT_FALSE(b->verified);
	ASSERT_NULL(b->sig);
	ASSERT_EQ(b->size, size);
	ASSERT_EQ(b->payload_size, size);
	/* The id is the start of the payload's sha256, in hex. */
	crypto_hash_sha256(sha, data, size);
	ASSERT_MEMEQ(b->sha256, sha, 32);
	for (int i = 0; i < 8; i++)
		snprintf(hex + 2 * i, 3, "%02x", sha[i]);
	ASSERT_STREQ(b->id, hex);
	bundle_free(b);
	free(data);
	free(path);
}

TEST(unsigned_bundle_needs_insecure)
{
	const struct bundle_load_opts strict = {0};
	const char *dir = test_tmpdir();
	struct bundle *b = NULL;
	char *path;

	path = write_sample(dir, false, NULL, NULL);
	hp_err_clear();
	ASSERT_ERR(bundle_load(path, &strict, &b), -EPERM);
	ASSERT_NULL(b);
	ASSERT_CONTAINS(hp_err_msg(-EPERM), "not signed");
	ASSERT_OK(bundle_load(path, &insecure, &b));
	assert_sample(b, false);
	bundle_free(b);
	free(path);
}

static bool same_content(const struct bundle *b)
{
	return b->manifest.name && strcmp(b->manifest.name, "fix-f") == 0 &&
	       b->object_size == sizeof(object) && memcmp(b->object, object, sizeof(object)) == 0 &&
	       b->explain_len == strlen(explain) &&
	       memcmp(b->explain, explain, strlen(explain)) == 0 && b->file_update == NULL;
}

/* Offsets where a flip may go unnoticed because nothing reads them: the
 * header's reserved u64 and each section entry's flags u32. */
static bool ignorable(size_t off, uint32_t nsec)
{
	if (off >= HDR_RESERVED_OFF && off < HDR_SIZE)
		return true;
	for (uint32_t i = 0; i < nsec; i++) {
		size_t flags = HDR_SIZE + (size_t)i * SEC_SIZE + SEC_FLAGS_OFF;

		if (off >= flags && off < flags + 4)
			return true;
	}
	return false;
}

/* Every single-byte change of an unsigned bundle must be refused, except in
 * the ignorable fields, where the bundle must load unchanged. */
TEST(every_byte_flip_is_detected)
{
	static const uint8_t masks[] = {0x01, 0x80, 0xff};
	const char *dir = test_tmpdir();
	struct buf missed = {0};
	struct bundle *b;
	uint8_t *data;
	size_t size;
	char *path;

	path = write_sample(dir, false, &data, &size);
	for (size_t k = 0; k < sizeof(masks); k++)
		for (size_t i = 0; i < size; i++) {
			data[i] ^= masks[k];
			b = NULL;
			if (bundle_load_mem(data, size, &insecure, &b) == 0 &&
			    (!ignorable(i, 3) || !same_content(b)))
				buf_printf(&missed, " %zu^0x%02x", i, masks[k]);
			bundle_free(b);
			data[i] ^= masks[k];
		}
	if (missed.len)
		test_fail(__FILE__, __LINE__, "flips loaded as a different bundle:%s",
			  buf_cstr(&missed));
	buf_free(&missed);
	free(data);
	free(path);
}

TEST(every_truncation_fails_cleanly)
{
	const char *dir = test_tmpdir();
	struct bundle *b = NULL;
	uint8_t *data, *copy;
	char *path;
	size_t size;

	path = write_sample(dir, true, &data, &size);
	for (size_t n = 0; n < size; n++) {
		/* An exactly-sized copy, so ASan catches any read past the end. */
		copy = malloc(n ? n : 1);
		ASSERT_NOT_NULL(copy);
		memcpy(copy, data, n);
		ASSERT_TRUE(bundle_load_mem(copy, n, &insecure, &b) < 0);
		ASSERT_NULL(b);
		free(copy);
	}
	/* Through the file system too, including an empty file. */
	test_write_file(path, data, 0);
	ASSERT_TRUE(bundle_load(path, &insecure, &b) < 0);
	test_write_file(path, data, size - 1);
	ASSERT_TRUE(bundle_load(path, &insecure, &b) < 0);
	ASSERT_NULL(b);
	free(data);
	free(path);
}

/* payload | sig text | "HPSIG001" | u64 length */
static void signed_image(struct buf *out, const char *payload, const char *sig, uint64_t len)
{
	*out = (struct buf){0};
	buf_put(out, payload, strlen(payload));
	buf_put(out, sig, strlen(sig));
	buf_put(out, BUNDLE_SIG_MAGIC, 8);
	buf_put_u64(out, len);
}

TEST(split_signed_layout)
{
	const uint8_t *sig = (const uint8_t *)"x";
	size_t payload = 0, sig_len = 99;
	struct buf img;

	signed_image(&img, "PAYLOAD", "SIGNATURE\n", 10);
	ASSERT_OK(bundle_split(img.data, img.len, &payload, &sig, &sig_len));
	ASSERT_EQ(payload, 7);
	ASSERT_EQ(sig_len, 10);
	ASSERT_TRUE(sig == img.data + 7);
	buf_free(&img);

	/* A signature with an empty payload is still well-formed. */
	signed_image(&img, "", "S", 1);
	ASSERT_OK(bundle_split(img.data, img.len, &payload, &sig, &sig_len));
	ASSERT_EQ(payload, 0);
	ASSERT_EQ(sig_len, 1);
	buf_free(&img);
}

TEST(split_unsigned_is_all_payload)
{
	static const uint8_t data[] = "HPBUNDL1 no trailer here at all";
	const uint8_t *sig = (const uint8_t *)"x";
	size_t payload = 0, sig_len = 99;

	ASSERT_OK(bundle_split(data, sizeof(data), &payload, &sig, &sig_len));
	ASSERT_EQ(payload, sizeof(data));
	ASSERT_NULL(sig);
	ASSERT_EQ(sig_len, 0);
	/* Shorter than a trailer. */
	ASSERT_OK(bundle_split(data, 5, &payload, &sig, &sig_len));
	ASSERT_EQ(payload, 5);
	ASSERT_NULL(sig);
}

TEST(split_refuses_corrupt_trailer)
{
	static const uint64_t bad[] = {0, 4097, 11, UINT64_MAX, 1ULL << 63};
	const uint8_t *sig;
	size_t payload, sig_len;
	struct buf img;

	/* 10 bytes of text before the trailer: more than that cannot be. */
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		signed_image(&img, "PAYLOAD", "SIG", bad[i]);
		ASSERT_ERR(bundle_split(img.data, img.len, &payload, &sig, &sig_len), -EBADMSG);
		buf_free(&img);
	}
}

struct verify_seen {
	size_t calls;
	uint8_t *payload;
	size_t payload_len;
	char sig[64];
	int ret;
};

static int fake_verify(const uint8_t *payload, size_t len, const uint8_t *sig, size_t sig_len,
		       char ret_signer[17], void *arg)
{
	struct verify_seen *s = arg;

	s->calls++;
	s->payload = malloc(len);
	memcpy(s->payload, payload, len);
	s->payload_len = len;
	snprintf(s->sig, sizeof(s->sig), "%.*s", (int)sig_len, (const char *)sig);
	if (s->ret == 0)
		snprintf(ret_signer, 17, "0123456789ABCDEF");
	return s->ret;
}

static struct bundle *load_signed(const char *dir, struct verify_seen *seen, int *ret)
{
	struct bundle_load_opts o = {.verify = fake_verify, .verify_arg = seen};
	struct bundle *b = NULL;
	uint8_t *data;
	size_t size;
	char *path;

	path = write_sample(dir, false, &data, &size);
	ASSERT_OK(bundle_write_signed(path, data, size, "SIG TEXT\n", 9));
	*ret = bundle_load(path, &o, &b);
	/* The verifier sees exactly the unsigned file as its payload. */
	ASSERT_EQ(seen->calls, 1);
	ASSERT_EQ(seen->payload_len, size);
	ASSERT_MEMEQ(seen->payload, data, size);
	ASSERT_STREQ(seen->sig, "SIG TEXT\n");
	free(seen->payload);
	free(data);
	free(path);
	return b;
}

TEST(signed_bundle_is_verified_before_use)
{
	struct verify_seen seen = {0};
	struct bundle *b;
	int r;

	b = load_signed(test_tmpdir(), &seen, &r);
	ASSERT_OK(r);
	ASSERT_TRUE(b->verified);
	ASSERT_STREQ(b->signer, "0123456789ABCDEF");
	ASSERT_EQ(b->sig_len, 9);
	assert_sample(b, false);
	bundle_free(b);
}

TEST(signed_bundle_with_bad_signature_is_refused)
{
	struct verify_seen seen = {.ret = -EKEYREJECTED};
	struct bundle *b;
	int r;

	b = load_signed(test_tmpdir(), &seen, &r);
	ASSERT_ERR(r, -EKEYREJECTED);
	ASSERT_NULL(b);
}

TEST(signed_bundle_without_verifier_needs_insecure)
{
	const struct bundle_load_opts strict = {0};
	const char *dir = test_tmpdir();
	struct bundle *b = NULL;
	uint8_t *data;
	size_t size;
	char *path;

	path = write_sample(dir, false, &data, &size);
	ASSERT_OK(bundle_write_signed(path, data, size, "S", 1));
	ASSERT_ERR(bundle_load(path, &strict, &b), -EPERM);
	ASSERT_OK(bundle_load(path, &insecure, &b));
	ASSERT_FALSE(b->verified); /* accepted, but not as verified */
	ASSERT_EQ(b->payload_size, size);
	bundle_free(b);
	free(data);
	free(path);
}

/* A payload assembled by hand: header, then @n sections of @types, with the
 * manifest/object/explain contents and correct checksums. */
static void handmade(struct buf *out, const uint32_t *types, uint32_t n)
{
	struct buf man = {0};
	struct manifest m;
	uint64_t off = HDR_SIZE + (uint64_t)n * SEC_SIZE, total = off;
	const void *p[MAX_TEST_SECS];
	size_t len[MAX_TEST_SECS];

	sample_manifest(&m);
	manifest_encode(&m, &man);
	for (uint32_t i = 0; i < n; i++) {
		p[i] = types[i] == BUNDLE_SEC_MANIFEST ? man.data : (const void *)object;
		len[i] = types[i] == BUNDLE_SEC_MANIFEST ? man.len : sizeof(object);
		total += len[i];
	}
	*out = (struct buf){0};
	buf_put(out, BUNDLE_MAGIC, 8);
	buf_put_u32(out, HDR_SIZE);
	buf_put_u32(out, n);
	buf_put_u64(out, total);
	buf_put_u64(out, 0);
	for (uint32_t i = 0; i < n; i++) {
		uint8_t sha[32];

		crypto_hash_sha256(sha, p[i], len[i]);
		buf_put_u32(out, types[i]);
		buf_put_u32(out, 0);
		buf_put_u64(out, off);
		buf_put_u64(out, len[i]);
		buf_put(out, sha, 32);
		off += len[i];
	}
	for (uint32_t i = 0; i < n; i++)
		buf_put(out, p[i], len[i]);
	buf_free(&man);
}

TEST(unknown_sections_are_skipped)
{
	static const uint32_t types[] = {BUNDLE_SEC_MANIFEST, 99, BUNDLE_SEC_OBJECT};
	struct bundle *b = NULL;
	struct buf img;

	/* A newer writer may add sections: they are signed, so skipping is safe. */
	handmade(&img, types, 3);
	ASSERT_OK(bundle_load_mem(img.data, img.len, &insecure, &b));
	ASSERT_STREQ(b->manifest.name, "fix-f");
	ASSERT_EQ(b->object_size, sizeof(object));
	bundle_free(b);
	buf_free(&img);
}

TEST(duplicate_sections_are_refused)
{
	static const uint32_t types[] = {BUNDLE_SEC_MANIFEST, BUNDLE_SEC_MANIFEST,
					 BUNDLE_SEC_OBJECT};
	struct bundle *b = NULL;
	struct buf img;

	int r;

	/* Two manifests: which one would apply? (The first one also leaks.) */
	handmade(&img, types, 3);
	r = bundle_load_mem(img.data, img.len, &insecure, &b);
	bundle_free(b);
	buf_free(&img);
	ASSERT_ERR(r, -EBADMSG);
}
