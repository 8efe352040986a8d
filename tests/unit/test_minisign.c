/* SPDX-License-Identifier: MIT */
/* minisign.c: keys and signatures round trip, any change to what is signed
 * is caught, and the parsers accept the exact format and nothing else.
 * (Interoperability with the real minisign tool: test_minisign_tool.c.) */
#include "minisign.h"

#include <sodium.h>

#include "test.h"

static const uint8_t msg[] = "the payload of a bundle";

static void keypair(struct minisign_pub *pub, struct minisign_sec *sec)
{
	ASSERT_OK(minisign_keygen(pub, sec));
}

/* Signs @msg and parses the result back. */
static void signed_msg(const struct minisign_sec *sec, const char *trusted,
		       struct minisign_sig *ret)
{
	char *text = minisign_sign(sec, msg, sizeof(msg), trusted);

	ASSERT_NOT_NULL(text);
	ASSERT_OK(minisign_parse_sig(text, strlen(text), ret));
	free(text);
}

TEST(keygen_pairs_match)
{
	struct minisign_pub pub;
	struct minisign_sec sec, other;

	keypair(&pub, &sec);
	ASSERT_MEMEQ(pub.keyid, sec.keyid, MINISIGN_KEYID_LEN);
	/* libsodium's secret key carries the public key in its second half. */
	ASSERT_MEMEQ(sec.sk + 32, pub.pk, 32);
	keypair(&pub, &other);
	ASSERT_TRUE(memcmp(sec.sk, other.sk, 64) != 0);
}

TEST(public_key_round_trip)
{
	struct minisign_pub pub, back;
	struct minisign_sec sec;
	char hex[17], *text;

	keypair(&pub, &sec);
	text = minisign_format_pub(&pub);
	ASSERT_NOT_NULL(text);
	minisign_keyid_hex(pub.keyid, hex);
	ASSERT_TRUE(strncmp(text, "untrusted comment: ", 19) == 0);
	ASSERT_CONTAINS(text, hex);
	ASSERT_OK(minisign_parse_pub(text, strlen(text), &back));
	ASSERT_MEMEQ(back.keyid, pub.keyid, MINISIGN_KEYID_LEN);
	ASSERT_MEMEQ(back.pk, pub.pk, 32);
	free(text);
}

TEST(secret_key_round_trip)
{
	struct minisign_pub pub;
	struct minisign_sec sec, back;
	char *text;

	keypair(&pub, &sec);
	text = minisign_format_sec(&sec);
	ASSERT_NOT_NULL(text);
	ASSERT_OK(minisign_parse_sec(text, strlen(text), NULL, &back));
	ASSERT_MEMEQ(back.keyid, sec.keyid, MINISIGN_KEYID_LEN);
	ASSERT_MEMEQ(back.sk, sec.sk, 64);
	free(text);
}

TEST(keyid_hex_is_little_endian)
{
	static const uint8_t id[MINISIGN_KEYID_LEN] = {1, 2, 3, 4, 5, 6, 7, 0xab};
	char hex[17];

	minisign_keyid_hex(id, hex);
	ASSERT_STREQ(hex, "AB07060504030201");
}

TEST(sign_parse_verify)
{
	struct minisign_pub pub;
	struct minisign_sec sec;
	struct minisign_sig sig;

	keypair(&pub, &sec);
	signed_msg(&sec, "timestamp:1700000000\tfile:fix.hpb", &sig);
	ASSERT_TRUE(sig.prehashed);
	ASSERT_MEMEQ(sig.keyid, pub.keyid, MINISIGN_KEYID_LEN);
	ASSERT_STREQ(sig.trusted, "timestamp:1700000000\tfile:fix.hpb");
	ASSERT_OK(minisign_verify(&pub, &sig, msg, sizeof(msg)));
	ASSERT_EQ(minisign_verify(&pub, &sig, msg, sizeof(msg)), 0);
}

TEST(verify_fails_after_any_message_flip)
{
	struct minisign_pub pub;
	struct minisign_sec sec;
	struct minisign_sig sig;
	uint8_t copy[sizeof(msg)];

	keypair(&pub, &sec);
	signed_msg(&sec, "t", &sig);
	memcpy(copy, msg, sizeof(msg));
	for (size_t i = 0; i < sizeof(copy); i++) {
		copy[i] ^= 0x01;
		ASSERT_ERR(minisign_verify(&pub, &sig, copy, sizeof(copy)), -EBADMSG);
		copy[i] ^= 0x01;
	}
	/* Shorter and longer messages too. */
	ASSERT_ERR(minisign_verify(&pub, &sig, msg, sizeof(msg) - 1), -EBADMSG);
	ASSERT_ERR(minisign_verify(&pub, &sig, msg, 0), -EBADMSG);
}

TEST(verify_fails_after_signature_flip)
{
	struct minisign_pub pub;
	struct minisign_sec sec;
	struct minisign_sig sig;

	keypair(&pub, &sec);
	signed_msg(&sec, "t", &sig);
	for (size_t i = 0; i < 64; i++) {
		sig.sig[i] ^= 0x80;
		ASSERT_ERR(minisign_verify(&pub, &sig, msg, sizeof(msg)), -EBADMSG);
		sig.sig[i] ^= 0x80;
		sig.global_sig[i] ^= 0x80;
		ASSERT_ERR(minisign_verify(&pub, &sig, msg, sizeof(msg)), -EBADMSG);
		sig.global_sig[i] ^= 0x80;
	}
	ASSERT_OK(minisign_verify(&pub, &sig, msg, sizeof(msg)));
}

TEST(verify_fails_after_trusted_comment_change)
{
	struct minisign_pub pub;
	struct minisign_sec sec;
	struct minisign_sig sig;
	char *text, *tc;

	keypair(&pub, &sec);
	signed_msg(&sec, "file:good.hpb", &sig);
	sig.trusted[5] = 'G';
	ASSERT_ERR(minisign_verify(&pub, &sig, msg, sizeof(msg)), -EBADMSG);
	sig.trusted[5] = 'g';
	strcat(sig.trusted, "x"); /* appending is a change too */
	ASSERT_ERR(minisign_verify(&pub, &sig, msg, sizeof(msg)), -EBADMSG);

	/* The same edit made in the signature file's text. */
	text = minisign_sign(&sec, msg, sizeof(msg), "file:good.hpb");
	tc = strstr(text, "\ntrusted comment: file:good");
	ASSERT_NOT_NULL(tc);
	tc[strlen("\ntrusted comment: file:")] = 'G';
	ASSERT_OK(minisign_parse_sig(text, strlen(text), &sig));
	ASSERT_ERR(minisign_verify(&pub, &sig, msg, sizeof(msg)), -EBADMSG);
	free(text);
}

TEST(wrong_key_is_rejected)
{
	struct minisign_pub pub, other_pub;
	struct minisign_sec sec, other_sec;
	struct minisign_sig sig;

	keypair(&pub, &sec);
	keypair(&other_pub, &other_sec);
	signed_msg(&sec, "t", &sig);
	ASSERT_ERR(minisign_verify(&other_pub, &sig, msg, sizeof(msg)), -EKEYREJECTED);
	/* Same key id, different key: the signature itself must fail. */
	memcpy(other_pub.keyid, pub.keyid, MINISIGN_KEYID_LEN);
	ASSERT_ERR(minisign_verify(&other_pub, &sig, msg, sizeof(msg)), -EBADMSG);
}

TEST(legacy_unhashed_signature_verifies)
{
	struct minisign_pub pub;
	struct minisign_sec sec;
	struct minisign_sig sig = {.prehashed = false};
	uint8_t global[64 + 1];

	/* "Ed": the signature is over the message itself (minisign -l). */
	keypair(&pub, &sec);
	memcpy(sig.keyid, pub.keyid, MINISIGN_KEYID_LEN);
	crypto_sign_detached(sig.sig, NULL, msg, sizeof(msg), sec.sk);
	memcpy(global, sig.sig, 64);
	global[64] = 'c';
	strcpy(sig.trusted, "c");
	crypto_sign_detached(sig.global_sig, NULL, global, sizeof(global), sec.sk);
	ASSERT_OK(minisign_verify(&pub, &sig, msg, sizeof(msg)));
	sig.prehashed = true; /* the same bytes read as prehashed must fail */
	ASSERT_ERR(minisign_verify(&pub, &sig, msg, sizeof(msg)), -EBADMSG);
}

TEST(parsers_refuse_garbage)
{
	static const char *const bad[] = {
		"", "\n\n\n", "garbage", "untrusted comment: x\n", "untrusted comment: x\n!!!!\n",
		"untrusted comment: x\nRWQ=\n", "comment: x\nRWQAAAAAAAAA\n",
	};
	struct minisign_pub pub;
	struct minisign_sec sec;
	struct minisign_sig sig;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ASSERT_ERR(minisign_parse_pub(bad[i], strlen(bad[i]), &pub), -EBADMSG);
		ASSERT_ERR(minisign_parse_sec(bad[i], strlen(bad[i]), NULL, &sec), -EBADMSG);
		ASSERT_ERR(minisign_parse_sig(bad[i], strlen(bad[i]), &sig), -EBADMSG);
	}
}

/* Offset of the start of line @k (0-based) of @text. */
static size_t line_off(const char *text, int k)
{
	const char *p = text;

	for (int i = 0; i < k; i++) {
		p = strchr(p, '\n');
		ASSERT_NOT_NULL(p);
		p++;
	}
	return (size_t)(p - text);
}

/* Key or signature text with one line of @extra inserted before line @at. */
static char *with_line(const char *text, int at, const char *extra)
{
	size_t off = line_off(text, at);
	char *out;

	ASSERT_TRUE(asprintf(&out, "%.*s%s\n%s", (int)off, text, extra, text + off) > 0);
	return out;
}

TEST(parsers_refuse_wrong_line_counts)
{
	struct minisign_pub pub;
	struct minisign_sec sec;
	struct minisign_sig sig;
	char *ptext, *stext, *t;

	keypair(&pub, &sec);
	ptext = minisign_format_pub(&pub);
	stext = minisign_sign(&sec, msg, sizeof(msg), "t");
	t = with_line(ptext, 2, "extra");
	ASSERT_ERR(minisign_parse_pub(t, strlen(t), &pub), -EBADMSG);
	free(t);
	/* A signature cut after its third line. */
	ASSERT_ERR(minisign_parse_sig(stext, line_off(stext, 3), &sig), -EBADMSG);
	ASSERT_OK(minisign_parse_sig(stext, line_off(stext, 4), &sig));
	t = with_line(stext, 4, "extra");
	ASSERT_ERR(minisign_parse_sig(t, strlen(t), &sig), -EBADMSG);
	free(t);
	/* A public key is not a signature and vice versa. */
	ASSERT_ERR(minisign_parse_sig(ptext, strlen(ptext), &sig), -EBADMSG);
	ASSERT_ERR(minisign_parse_pub(stext, strlen(stext), &pub), -EBADMSG);
	free(ptext);
	free(stext);
}

TEST(parsers_accept_crlf)
{
	struct minisign_pub pub, back;
	struct minisign_sec sec;
	char *text, crlf[256];
	size_t n = 0;

	keypair(&pub, &sec);
	text = minisign_format_pub(&pub);
	for (const char *p = text; *p; p++) {
		if (*p == '\n')
			crlf[n++] = '\r';
		crlf[n++] = *p;
	}
	ASSERT_OK(minisign_parse_pub(crlf, n, &back));
	ASSERT_MEMEQ(back.pk, pub.pk, 32);
	free(text);
}

TEST(parsers_refuse_long_lines_and_nul)
{
	struct minisign_pub pub;
	struct minisign_sec sec;
	struct minisign_sig sig;
	char *text, *t, long_line[2100];
	const size_t prefix = strlen("untrusted comment: ");

	/* Lines up to 2047 bytes are fine, 2048 is one too many. */
	keypair(&pub, &sec);
	text = minisign_format_pub(&pub);
	memset(long_line, 'A', sizeof(long_line));
	ASSERT_TRUE(asprintf(&t, "untrusted comment: %.*s\n%s", (int)(2047 - prefix), long_line,
			     text + line_off(text, 1)) > 0);
	ASSERT_OK(minisign_parse_pub(t, strlen(t), &pub));
	free(t);
	ASSERT_TRUE(asprintf(&t, "untrusted comment: %.*s\n%s", (int)(2048 - prefix), long_line,
			     text + line_off(text, 1)) > 0);
	ASSERT_ERR(minisign_parse_pub(t, strlen(t), &pub), -EBADMSG);
	free(t);
	/* A NUL inside the text: the length says more than strlen() sees. */
	t = strdup(text);
	t[5] = '\0';
	ASSERT_ERR(minisign_parse_pub(t, strlen(text), &pub), -EBADMSG);
	free(t);
	free(text);

	/* Trusted comments are limited to what struct minisign_sig holds. */
	memset(long_line, 'c', 1024);
	long_line[1024] = '\0';
	text = minisign_sign(&sec, msg, sizeof(msg), long_line);
	ASSERT_ERR(minisign_parse_sig(text, strlen(text), &sig), -EBADMSG);
	free(text);
	long_line[1023] = '\0';
	signed_msg(&sec, long_line, &sig);
	ASSERT_EQ(strlen(sig.trusted), 1023);
}

TEST(parse_sig_refuses_unknown_algorithm)
{
	struct minisign_sec sec;
	struct minisign_pub pub;
	struct minisign_sig sig;
	char *text, *b64;

	keypair(&pub, &sec);
	text = minisign_sign(&sec, msg, sizeof(msg), "t");
	/* "RU" starts the base64 of "ED" + ...; "RX" is "Et" instead. */
	b64 = text + line_off(text, 1);
	ASSERT_TRUE(strncmp(b64, "RU", 2) == 0);
	b64[1] = 'X';
	ASSERT_ERR(minisign_parse_sig(text, strlen(text), &sig), -EBADMSG);
	free(text);
}

/* Encrypts the formatted secret key @text in place the way `minisign -G`
 * does, with cheap scrypt parameters. */
static char *encrypt_sec(const char *text, const char *password)
{
	uint8_t blob[158], stream[104];
	uint64_t ops = crypto_pwhash_scryptsalsa208sha256_OPSLIMIT_MIN;
	uint64_t mem = crypto_pwhash_scryptsalsa208sha256_MEMLIMIT_MIN;
	char b64[256], *out;
	size_t len;

	ASSERT_EQ(sodium_base642bin(blob, sizeof(blob), strchr(text, '\n') + 1, 212, NULL, &len,
				    NULL, sodium_base64_VARIANT_ORIGINAL),
		  0);
	ASSERT_EQ(len, sizeof(blob));
	memcpy(blob + 2, "Sc", 2);
	randombytes_buf(blob + 6, 32);
	memcpy(blob + 38, &ops, 8);
	memcpy(blob + 46, &mem, 8);
	ASSERT_EQ(crypto_pwhash_scryptsalsa208sha256(stream, sizeof(stream), password,
						     strlen(password), blob + 6, ops, mem),
		  0);
	for (size_t i = 0; i < sizeof(stream); i++)
		blob[54 + i] ^= stream[i];
	sodium_bin2base64(b64, sizeof(b64), blob, sizeof(blob), sodium_base64_VARIANT_ORIGINAL);
	ASSERT_TRUE(asprintf(&out, "untrusted comment: encrypted\n%s\n", b64) > 0);
	return out;
}

TEST(encrypted_secret_key)
{
	struct minisign_pub pub;
	struct minisign_sec sec, back;
	char *plain, *enc;

	keypair(&pub, &sec);
	plain = minisign_format_sec(&sec);
	enc = encrypt_sec(plain, "hunter2");
	ASSERT_ERR(minisign_parse_sec(enc, strlen(enc), NULL, &back), -EACCES);
	ASSERT_ERR(minisign_parse_sec(enc, strlen(enc), "hunter3", &back), -EBADMSG);
	ASSERT_OK(minisign_parse_sec(enc, strlen(enc), "hunter2", &back));
	ASSERT_MEMEQ(back.sk, sec.sk, 64);
	free(plain);
	free(enc);
}
