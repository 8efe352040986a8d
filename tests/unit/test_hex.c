/* SPDX-License-Identifier: MIT */
/* hex.c: bundle ids and build-ids go through these, in both directions. */
#include "hex.h"

#include "test.h"

TEST(encode_lowercase)
{
	static const uint8_t in[] = {0x00, 0x01, 0xab, 0xff, 0x7f};
	char out[2 * sizeof(in) + 1];

	hex_encode(in, sizeof(in), out);
	ASSERT_STREQ(out, "0001abff7f");
}

TEST(encode_empty)
{
	char out[1] = {'x'};

	hex_encode(NULL, 0, out);
	ASSERT_STREQ(out, "");
}

TEST(round_trip_every_byte)
{
	uint8_t in[256], back[256];
	char text[2 * 256 + 1];
	size_t len = 0;

	for (int i = 0; i < 256; i++)
		in[i] = (uint8_t)i;
	hex_encode(in, sizeof(in), text);
	ASSERT_EQ(strlen(text), 512);
	ASSERT_OK(hex_decode(text, back, sizeof(back), &len));
	ASSERT_EQ(len, 256);
	ASSERT_MEMEQ(back, in, sizeof(in));
}

TEST(decode_accepts_uppercase)
{
	uint8_t out[4];
	size_t len = 0;

	ASSERT_OK(hex_decode("DEADbeef", out, sizeof(out), &len));
	ASSERT_EQ(len, 4);
	ASSERT_MEMEQ(out, "\xde\xad\xbe\xef", 4);
}

TEST(decode_empty)
{
	uint8_t out[1];
	size_t len = 99;

	ASSERT_OK(hex_decode("", out, 0, &len));
	ASSERT_EQ(len, 0);
}

TEST(decode_refuses_odd_length)
{
	uint8_t out[4];
	size_t len = 99;

	ASSERT_ERR(hex_decode("abc", out, sizeof(out), &len), -EINVAL);
	ASSERT_ERR(hex_decode("a", out, sizeof(out), &len), -EINVAL);
	ASSERT_EQ(len, 99); /* untouched on failure */
}

TEST(decode_refuses_bad_digits)
{
	/* Even lengths only, so the digit check is what refuses them; "\xc3\xa9"
	 * (UTF-8 e-acute) checks that bytes >= 0x80 are not taken as digits. */
	static const char *const bad[] = {"0g", "g0", "  ", "0x12", "12-4", "ab\n\n", "\xc3\xa9"};
	uint8_t out[8];
	size_t len = 99;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ASSERT_ERR(hex_decode(bad[i], out, sizeof(out), &len), -EINVAL);
	ASSERT_EQ(len, 99);
}

TEST(decode_max_length)
{
	uint8_t out[3];
	size_t len = 0;

	ASSERT_OK(hex_decode("010203", out, 3, &len));
	ASSERT_EQ(len, 3);
	/* One byte more than @max must not be written at all. */
	memset(out, 0xee, sizeof(out));
	ASSERT_ERR(hex_decode("01020304", out, 3, &len), -EINVAL);
	ASSERT_EQ(out[0], 0xee);
}
