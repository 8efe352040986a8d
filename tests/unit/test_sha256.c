/* SPDX-License-Identifier: MIT */
/* sha256.c: the bundle id and the section checksums go through it; with the
 * CPU's SHA extensions it must give exactly libsodium's digests. */
#include "sha256.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hex.h"
#include "test.h"

static void check(const uint8_t *p, size_t len)
{
	uint8_t got[32], want[32];

	sha256(got, p, len);
	crypto_hash_sha256(want, p, len);
	if (memcmp(got, want, 32) != 0)
		fprintf(stderr, "sha256 differs at length %zu\n", len);
	ASSERT_MEMEQ(got, want, 32);
}

TEST(known_answers)
{
	uint8_t out[32];
	char hex[65];

	sha256(out, "", 0);
	hex_encode(out, 32, hex);
	ASSERT_STREQ(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	sha256(out, "abc", 3);
	hex_encode(out, 32, hex);
	ASSERT_STREQ(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	sha256(out, "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 56);
	hex_encode(out, 32, hex);
	ASSERT_STREQ(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

TEST(every_length_up_to_300_and_large)
{
	static uint8_t buf[1 << 20];

	ASSERT_TRUE(sodium_init() >= 0);
	randombytes_buf(buf, sizeof(buf));
	/* Every position of the padding: 55, 56, 63, 64 bytes into a block... */
	for (size_t len = 0; len <= 300; len++)
		check(buf + len % 7, len);
	check(buf, sizeof(buf));
	check(buf + 1, sizeof(buf) - 1000);
}

TEST(reports_acceleration)
{
	/* Informational: the machine decides; both paths give one answer. */
	fprintf(stderr, "sha256: %s\n",
		sha256_accelerated() ? "SHA extensions" : "libsodium (no SHA extensions)");
}
