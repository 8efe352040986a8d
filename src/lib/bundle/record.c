/* SPDX-License-Identifier: MIT */
#include "record.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "error.h"

#define RECORD_VERSION 1
#define RECORD_MAX_ENTRIES 4096

void record_encode(const struct record *r, uint8_t *out)
{
	struct buf b = {0};

	buf_put(&b, RECORD_MAGIC, 8);
	buf_put_u32(&b, RECORD_VERSION);
	buf_put_u32(&b, (uint32_t)r->n);
	buf_put(&b, r->bundle_sha, 32);
	buf_put_u64(&b, r->module_bias);
	buf_put_u64(&b, r->load_base);
	for (size_t i = 0; i < r->n; i++) {
		buf_put_u64(&b, r->e[i].addr);
		buf_put_u64(&b, r->e[i].new_addr);
		buf_put_u8(&b, r->e[i].len);
		buf_put(&b, (uint8_t[7]){0}, 7);
		buf_put(&b, r->e[i].prev, RECORD_MAX_BYTES);
	}
	memset(out, 0, record_size(r->n));
	if (!b.oom)
		memcpy(out, b.data, b.len);
	buf_free(&b);
}

int record_decode(const uint8_t *p, size_t n, struct record *ret)
{
	struct cursor c = cursor_init(p, n);
	struct record r = {0};
	uint8_t magic[8];
	uint32_t count;

	cur_get(&c, magic, 8);
	if (c.bad || memcmp(magic, RECORD_MAGIC, 8) != 0 || cur_u32(&c) != RECORD_VERSION)
		return -EBADMSG;
	count = cur_u32(&c);
	if (count > RECORD_MAX_ENTRIES || count > n / RECORD_ENTRY_SIZE)
		return -EBADMSG;
	cur_get(&c, r.bundle_sha, 32);
	r.module_bias = cur_u64(&c);
	r.load_base = cur_u64(&c);
	r.e = calloc(count ? count : 1, sizeof(*r.e));
	if (!r.e)
		return -ENOMEM;
	for (uint32_t i = 0; i < count; i++) {
		r.e[i].addr = cur_u64(&c);
		r.e[i].new_addr = cur_u64(&c);
		r.e[i].len = cur_u8(&c);
		cur_get(&c, NULL, 7);
		cur_get(&c, r.e[i].prev, RECORD_MAX_BYTES);
		if (r.e[i].len == 0 || r.e[i].len > RECORD_MAX_BYTES)
			c.bad = true;
	}
	r.n = count;
	if (c.bad) {
		record_free(&r);
		return -EBADMSG;
	}
	*ret = r;
	return 0;
}

void record_free(struct record *r)
{
	free(r->e);
	*r = (struct record){0};
}

