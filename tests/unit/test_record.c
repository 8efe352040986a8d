/* SPDX-License-Identifier: MIT */
/* record.c: the record is the only memory of what a patch did inside a
 * process, and it is read back from a process we do not trust. */
#include "record.h"

#include "test.h"

static struct record sample(struct record_entry *e, size_t n)
{
	struct record r = {.module_bias = 0x555555554000ULL, .load_base = 0x7f0000000000ULL,
			   .e = e, .n = n};

	for (int i = 0; i < 32; i++)
		r.bundle_sha[i] = (uint8_t)(i * 7);
	for (size_t i = 0; i < n; i++) {
		e[i] = (struct record_entry){.addr = 0x555555555000ULL + i * 0x100,
					     .new_addr = 0x7f0000001000ULL + i * 0x40,
					     .len = (uint8_t)(5 + i)};
		for (int k = 0; k < RECORD_MAX_BYTES; k++)
			e[i].prev[k] = (uint8_t)(0x90 + i + (size_t)k);
	}
	return r;
}

static void assert_same(const struct record *a, const struct record *b)
{
	ASSERT_MEMEQ(a->bundle_sha, b->bundle_sha, 32);
	ASSERT_EQ(a->module_bias, b->module_bias);
	ASSERT_EQ(a->load_base, b->load_base);
	ASSERT_EQ(a->n, b->n);
	for (size_t i = 0; i < a->n; i++) {
		ASSERT_EQ(a->e[i].addr, b->e[i].addr);
		ASSERT_EQ(a->e[i].new_addr, b->e[i].new_addr);
		ASSERT_EQ(a->e[i].len, b->e[i].len);
		ASSERT_MEMEQ(a->e[i].prev, b->e[i].prev, RECORD_MAX_BYTES);
	}
}

TEST(encode_layout)
{
	struct record_entry e[1];
	struct record r = sample(e, 1);
	uint8_t out[RECORD_HEADER_SIZE + RECORD_ENTRY_SIZE];

	ASSERT_EQ(record_size(1), sizeof(out));
	memset(out, 0xee, sizeof(out));
	record_encode(&r, out);
	ASSERT_MEMEQ(out, RECORD_MAGIC, 8);
	ASSERT_MEMEQ(out + 8, "\x01\0\0\0\x01\0\0\0", 8); /* version 1, one entry */
	ASSERT_MEMEQ(out + 16, r.bundle_sha, 32);
	ASSERT_MEMEQ(out + 48, "\x00\x40\x55\x55\x55\x55\0\0", 8); /* bias, LE */
	ASSERT_MEMEQ(out + 64, "\x00\x50\x55\x55\x55\x55\0\0", 8); /* entry addr */
	ASSERT_EQ(out[80], 5);                                      /* len */
	ASSERT_MEMEQ(out + 81, "\0\0\0\0\0\0\0", 7);               /* padding */
	ASSERT_MEMEQ(out + 88, e[0].prev, RECORD_MAX_BYTES);
}

TEST(round_trip)
{
	struct record_entry e[3];
	struct record r = sample(e, 3), back;
	uint8_t out[RECORD_HEADER_SIZE + 3 * RECORD_ENTRY_SIZE];

	record_encode(&r, out);
	ASSERT_OK(record_decode(out, sizeof(out), &back));
	assert_same(&r, &back);
	record_free(&back);
	ASSERT_NULL(back.e);
}

TEST(round_trip_empty)
{
	struct record r = sample(NULL, 0), back;
	uint8_t out[RECORD_HEADER_SIZE];

	record_encode(&r, out);
	ASSERT_OK(record_decode(out, sizeof(out), &back));
	ASSERT_EQ(back.n, 0);
	ASSERT_EQ(back.load_base, r.load_base);
	record_free(&back);
}

TEST(decode_accepts_trailing_space)
{
	struct record_entry e[2];
	struct record r = sample(e, 2), back;
	uint8_t out[RECORD_HEADER_SIZE + 4 * RECORD_ENTRY_SIZE] = {0};

	/* The reserved area in the object is usually larger than what is used. */
	record_encode(&r, out);
	ASSERT_OK(record_decode(out, sizeof(out), &back));
	assert_same(&r, &back);
	record_free(&back);
}

TEST(decode_refuses_bad_magic_and_version)
{
	struct record_entry e[1];
	struct record r = sample(e, 1), back;
	uint8_t out[RECORD_HEADER_SIZE + RECORD_ENTRY_SIZE];

	record_encode(&r, out);
	out[0] ^= 1;
	ASSERT_ERR(record_decode(out, sizeof(out), &back), -EBADMSG);
	out[0] ^= 1;
	out[8] = 2; /* version */
	ASSERT_ERR(record_decode(out, sizeof(out), &back), -EBADMSG);
	/* An all-zero area (object loaded, record never filled). */
	memset(out, 0, sizeof(out));
	ASSERT_ERR(record_decode(out, sizeof(out), &back), -EBADMSG);
}

TEST(decode_refuses_too_many_entries)
{
	struct record_entry e[1];
	struct record r = sample(e, 1), back;
	uint8_t out[RECORD_HEADER_SIZE + RECORD_ENTRY_SIZE];

	record_encode(&r, out);
	/* Two entries claimed, one present. */
	out[12] = 2;
	ASSERT_ERR(record_decode(out, sizeof(out), &back), -EBADMSG);
	/* A count that would need gigabytes must fail before allocating. */
	memcpy(out + 12, "\xff\xff\xff\xff", 4);
	ASSERT_ERR(record_decode(out, sizeof(out), &back), -EBADMSG);
}

TEST(decode_refuses_bad_len)
{
	struct record_entry e[2];
	struct record r = sample(e, 2), back;
	uint8_t out[RECORD_HEADER_SIZE + 2 * RECORD_ENTRY_SIZE];
	const size_t len_off = RECORD_HEADER_SIZE + RECORD_ENTRY_SIZE + 16; /* 2nd entry */

	record_encode(&r, out);
	out[len_off] = 0;
	ASSERT_ERR(record_decode(out, sizeof(out), &back), -EBADMSG);
	out[len_off] = RECORD_MAX_BYTES + 1;
	ASSERT_ERR(record_decode(out, sizeof(out), &back), -EBADMSG);
	out[len_off] = RECORD_MAX_BYTES;
	ASSERT_OK(record_decode(out, sizeof(out), &back));
	ASSERT_EQ(back.e[1].len, RECORD_MAX_BYTES);
	record_free(&back);
}

TEST(decode_every_truncation_fails)
{
	struct record_entry e[2];
	struct record r = sample(e, 2), back;
	uint8_t out[RECORD_HEADER_SIZE + 2 * RECORD_ENTRY_SIZE];

	record_encode(&r, out);
	for (size_t n = 0; n < sizeof(out); n++) {
		uint8_t *copy = malloc(n ? n : 1); /* exact size, for ASan */

		memcpy(copy, out, n);
		ASSERT_ERR(record_decode(copy, n, &back), -EBADMSG);
		free(copy);
	}
}
