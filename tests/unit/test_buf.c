/* SPDX-License-Identifier: MIT */
/* buf.c: the writer must produce exactly the little-endian bytes every
 * on-disk format relies on, and the cursor must never read past its input. */
#include "buf.h"

#include "test.h"

TEST(put_u8_u32_u64_little_endian)
{
	static const uint8_t want[] = {
		0xab,                                          /* u8 */
		0x04, 0x03, 0x02, 0x01,                        /* u32 0x01020304 */
		0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01 /* u64 */
	};
	struct buf b = {0};

	buf_put_u8(&b, 0xab);
	buf_put_u32(&b, 0x01020304);
	buf_put_u64(&b, 0x0102030405060708ULL);
	ASSERT_FALSE(b.oom);
	ASSERT_EQ(b.len, sizeof(want));
	ASSERT_MEMEQ(b.data, want, sizeof(want));
	buf_free(&b);
	ASSERT_NULL(b.data);
	ASSERT_EQ(b.len, 0);
}

TEST(put_blob_and_str_are_length_prefixed)
{
	static const uint8_t want[] = {3, 0, 0, 0, 'a', 'b', 'c', 0, 0, 0, 0, 0, 0, 0, 0};
	struct buf b = {0};

	buf_put_blob(&b, "abc", 3);
	buf_put_str(&b, "");
	buf_put_str(&b, NULL); /* NULL is written as the empty string */
	ASSERT_EQ(b.len, sizeof(want));
	ASSERT_MEMEQ(b.data, want, sizeof(want));
	buf_free(&b);
}

TEST(printf_grows_past_initial_capacity)
{
	struct buf b = {0};
	char big[1000];

	/* Well past the first allocation (256), in several steps. */
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	buf_printf(&b, "%d-", 42);
	for (int i = 0; i < 5; i++)
		buf_printf(&b, "%s", big);
	ASSERT_FALSE(b.oom);
	ASSERT_EQ(b.len, 3 + 5 * 999);
	ASSERT_TRUE(b.cap > b.len);
	ASSERT_MEMEQ(b.data, "42-xxx", 6);
	ASSERT_EQ(b.data[b.len - 1], 'x');
	ASSERT_EQ(strlen(buf_cstr(&b)), b.len);
	buf_free(&b);
}

TEST(cstr_terminates_without_counting_nul)
{
	struct buf b = {0};

	ASSERT_STREQ(buf_cstr(&b), ""); /* empty buffer gives "" too */
	buf_put(&b, "hi", 2);
	ASSERT_STREQ(buf_cstr(&b), "hi");
	ASSERT_EQ(b.len, 2);
	buf_put(&b, "!", 1);
	ASSERT_STREQ(buf_cstr(&b), "hi!");
	buf_free(&b);
}

TEST(cursor_reads_back_what_was_written)
{
	struct buf b = {0};
	struct cursor c;
	uint8_t raw[3];

	buf_put_u8(&b, 7);
	buf_put_u32(&b, 0xdeadbeef);
	buf_put_u64(&b, 0x1122334455667788ULL);
	buf_put(&b, "xyz", 3);
	c = cursor_init(b.data, b.len);
	ASSERT_EQ(cur_u8(&c), 7);
	ASSERT_EQ(cur_u32(&c), 0xdeadbeef);
	ASSERT_EQ(cur_u64(&c), 0x1122334455667788ULL);
	ASSERT_TRUE(cur_get(&c, raw, 3));
	ASSERT_MEMEQ(raw, "xyz", 3);
	ASSERT_EQ(c.left, 0);
	ASSERT_FALSE(c.bad);
	buf_free(&b);
}

TEST(over_read_poisons_cursor)
{
	static const uint8_t in[] = {1, 2, 3, 4, 5, 6};
	struct cursor c = cursor_init(in, sizeof(in));
	uint8_t out[8];

	ASSERT_EQ(cur_u32(&c), 0x04030201);
	/* Only 2 bytes left: the u32 fails, returns 0 and consumes nothing. */
	ASSERT_EQ(cur_u32(&c), 0);
	ASSERT_TRUE(c.bad);
	ASSERT_EQ(c.left, 2);
	/* Poisoned: even a read that would fit now fails. */
	ASSERT_EQ(cur_u8(&c), 0);
	memset(out, 0xff, sizeof(out));
	ASSERT_FALSE(cur_get(&c, out, 1));
	ASSERT_EQ(out[0], 0); /* a failed read zeroes the output */
	ASSERT_EQ(c.left, 2);
}

TEST(cur_u64_over_read_returns_zero)
{
	static const uint8_t in[] = {1, 2, 3, 4, 5, 6, 7};
	struct cursor c = cursor_init(in, sizeof(in));

	/* The low half reads fine but the high half does not: all of it is 0. */
	ASSERT_EQ(cur_u64(&c), 0);
	ASSERT_TRUE(c.bad);
}

TEST(cur_blob_respects_max_and_input)
{
	struct buf b = {0};
	struct cursor c;
	const uint8_t *p;
	size_t len = 99;

	buf_put_blob(&b, "hello", 5);
	c = cursor_init(b.data, b.len);
	p = cur_blob(&c, 5, &len);
	ASSERT_NOT_NULL(p);
	ASSERT_EQ(len, 5);
	ASSERT_MEMEQ(p, "hello", 5);
	ASSERT_TRUE(p == b.data + 4); /* points into the input, not a copy */

	/* One over the limit. */
	c = cursor_init(b.data, b.len);
	ASSERT_NULL(cur_blob(&c, 4, &len));
	ASSERT_TRUE(c.bad);

	/* The length prefix claims more than the input holds. */
	c = cursor_init(b.data, b.len - 1);
	ASSERT_NULL(cur_blob(&c, 100, &len));
	ASSERT_TRUE(c.bad);
	buf_free(&b);
}

TEST(cur_blob_empty)
{
	static const uint8_t in[] = {0, 0, 0, 0};
	struct cursor c = cursor_init(in, sizeof(in));
	size_t len = 99;

	ASSERT_NOT_NULL(cur_blob(&c, 0, &len));
	ASSERT_EQ(len, 0);
	ASSERT_FALSE(c.bad);
}

TEST(cur_str_copies_and_terminates)
{
	struct buf b = {0};
	struct cursor c;
	char *s;

	buf_put_str(&b, "name");
	buf_put_str(&b, "");
	c = cursor_init(b.data, b.len);
	s = cur_str(&c, 4);
	ASSERT_STREQ(s, "name");
	free(s);
	s = cur_str(&c, 0);
	ASSERT_STREQ(s, "");
	free(s);
	ASSERT_EQ(c.left, 0);
	ASSERT_FALSE(c.bad);

	c = cursor_init(b.data, b.len);
	ASSERT_NULL(cur_str(&c, 3)); /* "name" is one over the limit */
	ASSERT_TRUE(c.bad);
	buf_free(&b);
}

TEST(cur_str_refuses_embedded_nul)
{
	struct buf b = {0};
	struct cursor c;

	/* "ab\0c" would silently turn into "ab" in C: refuse it. */
	buf_put_blob(&b, "ab\0c", 4);
	buf_put_str(&b, "next");
	c = cursor_init(b.data, b.len);
	ASSERT_NULL(cur_str(&c, 100));
	ASSERT_TRUE(c.bad);
	ASSERT_NULL(cur_str(&c, 100)); /* and stays poisoned */
	buf_free(&b);
}

TEST(cur_get_null_skips)
{
	static const uint8_t in[] = {1, 2, 3};
	struct cursor c = cursor_init(in, sizeof(in));

	ASSERT_TRUE(cur_get(&c, NULL, 2));
	ASSERT_EQ(cur_u8(&c), 3);
	ASSERT_FALSE(cur_get(&c, NULL, 1));
	ASSERT_TRUE(c.bad);
}
