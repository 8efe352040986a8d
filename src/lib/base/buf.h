/* SPDX-License-Identifier: MIT */
/*
 * Growable byte buffers for output we assemble (bundles, JSON, records), and
 * bounds-checked cursors for input we do not trust (bundles, records read back
 * from a process). A cursor never reads past its end: once a read fails, the
 * cursor is poisoned and every later read fails too, so parsers can check
 * once at the end.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct buf {
	uint8_t *data;
	size_t len;
	size_t cap;
	bool oom;
};

void buf_free(struct buf *b);
void buf_put(struct buf *b, const void *p, size_t n);
void buf_put_u8(struct buf *b, uint8_t v);
void buf_put_u32(struct buf *b, uint32_t v);
void buf_put_u64(struct buf *b, uint64_t v);
/* Length-prefixed (u32) byte string. */
void buf_put_blob(struct buf *b, const void *p, size_t n);
void buf_put_str(struct buf *b, const char *s);
void buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* NUL-terminate without counting the NUL in len; returns data or NULL on OOM. */
char *buf_cstr(struct buf *b);

struct cursor {
	const uint8_t *p;
	size_t left;
	bool bad;
};

static inline struct cursor cursor_init(const void *p, size_t n)
{
	return (struct cursor){.p = p, .left = n, .bad = false};
}

bool cur_get(struct cursor *c, void *out, size_t n);
uint8_t cur_u8(struct cursor *c);
uint32_t cur_u32(struct cursor *c);
uint64_t cur_u64(struct cursor *c);
/* Returns a pointer into the input (not copied) and its length, or NULL. */
const uint8_t *cur_blob(struct cursor *c, size_t max, size_t *ret_len);
/* Returns a newly allocated NUL-terminated copy; refuses embedded NULs. */
char *cur_str(struct cursor *c, size_t max);
