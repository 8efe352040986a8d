/* SPDX-License-Identifier: MIT */
/* bundle.c, signed bundles: the file splits into payload, signature text and
 * trailer exactly; a damaged signature block is refused; and the verifier
 * decides before anything in the payload is parsed. */
#include "bundle.h"

#include "buf.h"
#include "minisign.h"
#include "test.h"
#include "bundle_sample.h"

static const struct bundle_load_opts insecure = {.insecure = true};

/* payload | sig text | "HPSIG001" | u64 length | SHA-256(sig text)[0..16] */
static void signed_image(struct buf *out, const char *payload, const char *sig, uint64_t len)
{
	uint8_t sum[32];

	crypto_hash_sha256(sum, (const uint8_t *)sig, strlen(sig));
	*out = (struct buf){0};
	buf_put(out, payload, strlen(payload));
	buf_put(out, sig, strlen(sig));
	buf_put(out, BUNDLE_SIG_MAGIC, 8);
	buf_put_u64(out, len);
	buf_put(out, sum, 16);
	ASSERT_EQ(BUNDLE_TRAILER_SIZE, 32);
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
	static const uint8_t data[] = "HPBUNDL1 no trailer here at all, none";
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

TEST(split_refuses_bad_length)
{
	static const uint64_t bad[] = {0, 4097, 11, UINT64_MAX, 1ULL << 63};
	const uint8_t *sig;
	size_t payload, sig_len;
	struct buf img;
	int r;

	/* 10 bytes of text before the trailer: more than that cannot be. */
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		signed_image(&img, "PAYLOAD", "SIG", bad[i]);
		r = bundle_split(img.data, img.len, &payload, &sig, &sig_len);
		buf_free(&img);
		ASSERT_ERR(r, -EBADMSG);
	}
}

/* Any changed byte after the payload: the signature text (including its
 * unauthenticated first line), the length, the checksum. A changed magic
 * makes the file unsigned, which is refused later unless --insecure. */
TEST(split_refuses_any_change_to_signature_block)
{
	static const char sig_text[] = "untrusted comment: x\nRWQ\ntrusted comment: t\nAB==\n";
	const size_t plen = 7, slen = sizeof(sig_text) - 1;
	const uint8_t *sig;
	size_t payload, sig_len;
	struct buf img;
	int r;

	signed_image(&img, "PAYLOAD", sig_text, slen);
	for (size_t i = plen; i < img.len; i++) {
		img.data[i] ^= 0x01;
		r = bundle_split(img.data, img.len, &payload, &sig, &sig_len);
		img.data[i] ^= 0x01;
		if (i >= plen + slen && i < plen + slen + 8) { /* magic */
			ASSERT_OK(r);
			ASSERT_NULL(sig);
			ASSERT_EQ(payload, img.len);
		} else if (r != -EBADMSG) {
			buf_free(&img);
			test_fail(__FILE__, __LINE__, "flip at %zu of %zu not refused: %d", i,
				  plen + slen + 32, r);
		}
	}
	ASSERT_OK(bundle_split(img.data, img.len, &payload, &sig, &sig_len));
	buf_free(&img);
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


TEST(write_signed_layout)
{
	const char *dir = test_tmpdir();
	uint8_t *data, *file, sum[32];
	size_t size, fsize;
	char *path;

	path = write_sample(dir, false, &data, &size);
	ASSERT_OK(bundle_write_signed(path, data, size, "SIGN", 4));
	file = (uint8_t *)test_read_file(path, &fsize);
	crypto_hash_sha256(sum, (const uint8_t *)"SIGN", 4);
	ASSERT_EQ(fsize, size + 4 + BUNDLE_TRAILER_SIZE);
	ASSERT_MEMEQ(file, data, size);
	ASSERT_MEMEQ(file + size, "SIGN" BUNDLE_SIG_MAGIC "\x04\0\0\0\0\0\0\0", 20);
	ASSERT_MEMEQ(file + size + 20, sum, 16);
	free(file);
	free(data);
	free(path);
}

/* A verifier doing the real check: @arg is the trusted public key. */
static int minisign_check(const uint8_t *payload, size_t len, const uint8_t *sig,
			  size_t sig_len, char ret_signer[17], void *arg)
{
	struct minisign_sig s;
	int r = minisign_parse_sig((const char *)sig, sig_len, &s);

	if (r == 0)
		r = minisign_verify(arg, &s, payload, len);
	if (r == 0)
		minisign_keyid_hex(s.keyid, ret_signer);
	return r;
}

TEST(minisign_signed_bundle_end_to_end)
{
	const char *dir = test_tmpdir();
	struct minisign_pub pub;
	struct minisign_sec sec;
	struct bundle_load_opts o = {.verify = minisign_check, .verify_arg = &pub};
	struct bundle *b = NULL;
	uint8_t *data;
	size_t size;
	char *path, *sig, hex[17];

	ASSERT_OK(minisign_keygen(&pub, &sec));
	path = write_sample(dir, false, &data, &size);
	sig = minisign_sign(&sec, data, size, "file:b.hpb");
	ASSERT_OK(bundle_write_signed(path, data, size, sig, strlen(sig)));
	ASSERT_OK(bundle_load(path, &o, &b));
	minisign_keyid_hex(pub.keyid, hex);
	ASSERT_TRUE(b->verified);
	ASSERT_STREQ(b->signer, hex);
	assert_sample(b, false);
	bundle_free(b);
	/* A changed payload byte now fails the signature, before parsing. */
	data[size / 2] ^= 1;
	ASSERT_OK(bundle_write_signed(path, data, size, sig, strlen(sig)));
	ASSERT_ERR(bundle_load(path, &o, &b), -EBADMSG);
	free(sig);
	free(data);
	free(path);
}
