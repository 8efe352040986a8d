/* SPDX-License-Identifier: MIT */
#include "buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void buf_free(struct buf *b)
{
	free(b->data);
	*b = (struct buf){0};
}

static bool buf_reserve(struct buf *b, size_t extra)
{
	size_t need, cap;
	uint8_t *p;

	if (b->oom)
		return false;
	if (extra > SIZE_MAX - b->len - 1)
		goto oom;
	need = b->len + extra + 1;
	if (need <= b->cap)
		return true;
	cap = b->cap ? b->cap : 256;
	while (cap < need)
		cap = cap > SIZE_MAX / 2 ? need : cap * 2;
	p = realloc(b->data, cap);
	if (!p)
		goto oom;
	b->data = p;
	b->cap = cap;
	return true;
oom:
	b->oom = true;
	return false;
}

void buf_put(struct buf *b, const void *p, size_t n)
{
	if (!n || !buf_reserve(b, n))
		return;
	memcpy(b->data + b->len, p, n);
	b->len += n;
}

void buf_put_u8(struct buf *b, uint8_t v)
{
	buf_put(b, &v, 1);
}

void buf_put_u32(struct buf *b, uint32_t v)
{
	uint8_t le[4] = {v, v >> 8, v >> 16, v >> 24};

	buf_put(b, le, sizeof(le));
}

void buf_put_u64(struct buf *b, uint64_t v)
{
	buf_put_u32(b, (uint32_t)v);
	buf_put_u32(b, (uint32_t)(v >> 32));
}

void buf_put_blob(struct buf *b, const void *p, size_t n)
{
	buf_put_u32(b, (uint32_t)n);
	buf_put(b, p, n);
}

void buf_put_str(struct buf *b, const char *s)
{
	buf_put_blob(b, s ? s : "", s ? strlen(s) : 0);
}

void buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || !buf_reserve(b, (size_t)n))
		return;
	va_start(ap, fmt);
	vsnprintf((char *)b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

char *buf_cstr(struct buf *b)
{
	if (!buf_reserve(b, 0))
		return NULL;
	b->data[b->len] = '\0';
	return (char *)b->data;
}

bool cur_get(struct cursor *c, void *out, size_t n)
{
	if (c->bad || n > c->left) {
		c->bad = true;
		if (out)
			memset(out, 0, n);
		return false;
	}
	if (out)
		memcpy(out, c->p, n);
	c->p += n;
	c->left -= n;
	return true;
}

uint8_t cur_u8(struct cursor *c)
{
	uint8_t v = 0;

	cur_get(c, &v, 1);
	return v;
}

uint32_t cur_u32(struct cursor *c)
{
	uint8_t le[4];

	if (!cur_get(c, le, 4))
		return 0;
	return le[0] | (uint32_t)le[1] << 8 | (uint32_t)le[2] << 16 | (uint32_t)le[3] << 24;
}

uint64_t cur_u64(struct cursor *c)
{
	uint8_t le[8];
	uint64_t v = 0;

	if (!cur_get(c, le, 8))
		return 0;
	for (int i = 7; i >= 0; i--)
		v = v << 8 | le[i];
	return v;
}

const uint8_t *cur_blob(struct cursor *c, size_t max, size_t *ret_len)
{
	uint32_t n = cur_u32(c);
	const uint8_t *p;

	if (c->bad || n > max || n > c->left) {
		c->bad = true;
		return NULL;
	}
	p = c->p;
	cur_get(c, NULL, n);
	*ret_len = n;
	return p;
}

char *cur_str(struct cursor *c, size_t max)
{
	const uint8_t *p;
	size_t n;
	char *s;

	p = cur_blob(c, max, &n);
	if (!p)
		return NULL;
	if (memchr(p, '\0', n)) {
		c->bad = true;
		return NULL;
	}
	s = malloc(n + 1);
	if (!s) {
		c->bad = true;
		return NULL;
	}
	memcpy(s, p, n);
	s[n] = '\0';
	return s;
}
