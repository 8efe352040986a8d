/* SPDX-License-Identifier: MIT */
/* manifest.c: what is encoded must decode to the same manifest, and any
 * damaged or hostile encoding must be refused cleanly (the decoder is fuzzed
 * as if its input were untrusted). */
#include "manifest.h"

#include "test.h"

static uint8_t code_a[16] = {0xf3, 0x0f, 0x1e, 0xfa, 0x55, 0x48, 0x89, 0xe5,
			     0x90, 0x90, 0x90, 0x90, 0x5d, 0xc3, 0xcc, 0xcc};
static uint8_t code_b[5] = {0x31, 0xc0, 0xc3, 0xcc, 0xcc};
static uint8_t code_c[9] = {0xf3, 0x0f, 0x1e, 0xfa, 0x31, 0xc0, 0xc3, 0xcc, 0xcc};

static char *cves[] = {"CVE-2024-0001", "CVE-2024-0002", ""};

static struct manifest_func funcs[] = {
	{"parse_request", "src/server.c", 0x401000, sizeof(code_a), 4, code_a, "parse_request_v2",
	 0x1000},
	{"main", "", 0x402000, sizeof(code_b), 0, code_b, "main_v2", 0x2000},
	/* endbr64 + exactly one jump: the smallest function with patch_off 4. */
	{"tiny", "other.c", 0x403000, sizeof(code_c), 4, code_c, "tiny_v2", 0x3000},
};

static struct manifest_sym syms[] = {
	{"counter", SYM_TARGET, 0, 0x404010, ""},
	{"malloc", SYM_EXTERNAL, 0, 0, "GLIBC_2.2.5"},
	{"__gmon_start__", SYM_EXTERNAL, 1, 0, ""},
	{"table", SYM_TARGET, 0, 0xffffffffffff0000ULL, ""},
};

static void sample(struct manifest *m)
{
	*m = (struct manifest){
		.name = "fix-parse",
		.description = "Bounds check in parse_request.\nSecond line: \"quoted\".",
		.target_path = "/usr/sbin/victim",
		.build_id = {0xde, 0xad, 0xbe, 0xef, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06,
			     0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10},
		.build_id_len = 20,
		.target_type = 3, /* ET_DYN */
		.cves = cves,
		.ncves = 3,
		.funcs = funcs,
		.nfuncs = 3,
		.syms = syms,
		.nsyms = 4,
		.record_vaddr = 0x5000,
		.record_size = 64 + 3 * 40,
		.flags = MANIFEST_HAS_FILE_UPDATE,
		.file_size_fixed = 123456789,
		.file_method = 2,
		.created = 1700000000,
		.tool_version = "0.1.0",
	};
	for (int i = 0; i < 32; i++) {
		m->file_sha_orig[i] = (uint8_t)i;
		m->file_sha_fixed[i] = (uint8_t)(0xff - i);
	}
}

static void encode(const struct manifest *m, struct buf *out)
{
	*out = (struct buf){0};
	manifest_encode(m, out);
	ASSERT_FALSE(out->oom);
}

static void assert_same_func(const struct manifest_func *a, const struct manifest_func *b)
{
	ASSERT_STREQ(a->name, b->name);
	ASSERT_STREQ(a->file, b->file);
	ASSERT_EQ(a->vaddr, b->vaddr);
	ASSERT_EQ(a->size, b->size);
	ASSERT_EQ(a->patch_off, b->patch_off);
	ASSERT_MEMEQ(a->expected, b->expected, a->size);
	ASSERT_STREQ(a->new_name, b->new_name);
	ASSERT_EQ(a->new_vaddr, b->new_vaddr);
}

static void assert_same(const struct manifest *a, const struct manifest *b)
{
	ASSERT_STREQ(a->name, b->name);
	ASSERT_STREQ(a->description, b->description);
	ASSERT_STREQ(a->target_path, b->target_path);
	ASSERT_EQ(a->build_id_len, b->build_id_len);
	ASSERT_MEMEQ(a->build_id, b->build_id, a->build_id_len);
	ASSERT_EQ(a->target_type, b->target_type);
	ASSERT_EQ(a->ncves, b->ncves);
	for (size_t i = 0; i < a->ncves; i++)
		ASSERT_STREQ(a->cves[i], b->cves[i]);
	ASSERT_EQ(a->nfuncs, b->nfuncs);
	for (size_t i = 0; i < a->nfuncs; i++)
		assert_same_func(&a->funcs[i], &b->funcs[i]);
	ASSERT_EQ(a->nsyms, b->nsyms);
	for (size_t i = 0; i < a->nsyms; i++) {
		ASSERT_STREQ(a->syms[i].name, b->syms[i].name);
		ASSERT_EQ(a->syms[i].kind, b->syms[i].kind);
		ASSERT_EQ(a->syms[i].weak, b->syms[i].weak);
		ASSERT_EQ(a->syms[i].vaddr, b->syms[i].vaddr);
		ASSERT_STREQ(a->syms[i].version, b->syms[i].version);
	}
	ASSERT_EQ(a->record_vaddr, b->record_vaddr);
	ASSERT_EQ(a->record_size, b->record_size);
	ASSERT_EQ(a->flags, b->flags);
	ASSERT_MEMEQ(a->file_sha_orig, b->file_sha_orig, 32);
	ASSERT_MEMEQ(a->file_sha_fixed, b->file_sha_fixed, 32);
	ASSERT_EQ(a->file_size_fixed, b->file_size_fixed);
	ASSERT_EQ(a->file_method, b->file_method);
	ASSERT_EQ(a->created, b->created);
	ASSERT_STREQ(a->tool_version, b->tool_version);
}

/* Decodes a private, exactly-sized copy so ASan sees any over-read. */
static int decode_copy(const uint8_t *p, size_t n, struct manifest *ret)
{
	uint8_t *copy = malloc(n ? n : 1);
	int r;

	ASSERT_NOT_NULL(copy);
	memcpy(copy, p, n);
	r = manifest_decode(copy, n, ret);
	free(copy);
	return r;
}

TEST(round_trip)
{
	struct manifest m, back;
	struct buf b;

	sample(&m);
	encode(&m, &b);
	ASSERT_OK(decode_copy(b.data, b.len, &back));
	assert_same(&m, &back);
	ASSERT_TRUE(manifest_find_func(&back, "main") == &back.funcs[1]);
	ASSERT_NULL(manifest_find_func(&back, "nope"));
	manifest_free(&back);
	ASSERT_NULL(back.funcs); /* free leaves an empty manifest */
	buf_free(&b);
}

TEST(round_trip_empty_lists)
{
	struct manifest m, back;
	struct buf b;

	sample(&m);
	m.ncves = m.nfuncs = m.nsyms = 0;
	m.name = NULL; /* NULL strings travel as "" */
	encode(&m, &b);
	ASSERT_OK(decode_copy(b.data, b.len, &back));
	ASSERT_STREQ(back.name, "");
	ASSERT_EQ(back.ncves + back.nfuncs + back.nsyms, 0);
	manifest_free(&back);
	buf_free(&b);
}

/* Truncated at n >= 4: the version is intact, the rest is cut short. */
TEST(every_truncation_is_refused)
{
	struct manifest m, back;
	struct buf b;

	sample(&m);
	encode(&m, &b);
	for (size_t n = 4; n < b.len; n++) {
		memset(&back, 0xa5, sizeof(back));
		ASSERT_ERR(decode_copy(b.data, n, &back), -EBADMSG);
		ASSERT_EQ(back.nfuncs, 0xa5a5a5a5a5a5a5a5ULL); /* untouched */
	}
	buf_free(&b);
}

/* Cut inside the version field, the input is just as truncated: it must be
 * reported as malformed, not as "unknown version; upgrade hotpatch". */
TEST(truncation_inside_version_is_malformed)
{
	struct manifest m, back;
	struct buf b;
	int r[4];

	sample(&m);
	encode(&m, &b);
	for (size_t n = 0; n < 4; n++)
		r[n] = decode_copy(b.data, n, &back);
	buf_free(&b);
	for (size_t n = 0; n < 4; n++)
		ASSERT_ERR(r[n], -EBADMSG);
}

TEST(trailing_bytes_are_refused)
{
	struct manifest m, back;
	struct buf b;

	sample(&m);
	encode(&m, &b);
	buf_put_u8(&b, 0);
	ASSERT_ERR(decode_copy(b.data, b.len, &back), -EBADMSG);
	buf_free(&b);
}

TEST(unknown_version_is_refused)
{
	struct manifest m, back;
	struct buf b;

	sample(&m);
	encode(&m, &b);
	b.data[0] = MANIFEST_VERSION + 1;
	hp_err_clear();
	ASSERT_ERR(decode_copy(b.data, b.len, &back), -EPROTO);
	ASSERT_CONTAINS(hp_err_msg(-EPROTO), "unknown version");
	buf_free(&b);
}

/* Decodes the sample with funcs[1] replaced; the sample is restored before
 * anything is asserted, so a failure here cannot leak into other tests. */
static int decode_one_func(uint8_t *code, uint64_t size, uint32_t patch_off)
{
	struct manifest_func saved = funcs[1];
	struct manifest m, back;
	struct buf b = {0};
	int r;

	sample(&m);
	funcs[1].expected = code;
	funcs[1].size = size;
	funcs[1].patch_off = patch_off;
	manifest_encode(&m, &b);
	funcs[1] = saved;
	ASSERT_FALSE(b.oom);
	r = decode_copy(b.data, b.len, &back);
	if (r == 0)
		manifest_free(&back);
	buf_free(&b);
	return r;
}

TEST(jump_must_fit_in_function)
{
	ASSERT_OK(decode_one_func(code_b, JUMP_SIZE, 0));
	ASSERT_ERR(decode_one_func(code_b, JUMP_SIZE - 1, 0), -EBADMSG);
	ASSERT_ERR(decode_one_func(code_b, 0, 0), -EBADMSG);
	/* After endbr64, the jump needs 4 + 5 bytes. */
	ASSERT_ERR(decode_one_func(code_a, ENDBR64_SIZE + JUMP_SIZE - 1, ENDBR64_SIZE), -EBADMSG);
	ASSERT_OK(decode_one_func(code_a, ENDBR64_SIZE + JUMP_SIZE, ENDBR64_SIZE));
	/* A patch offset other than 0 or after endbr64 is nonsense. */
	ASSERT_ERR(decode_one_func(code_a, 16, ENDBR64_SIZE + 1), -EBADMSG);
}

TEST(unknown_symbol_kind_is_refused)
{
	struct manifest m, back;
	struct buf b;

	sample(&m);
	syms[2].kind = SYM_TARGET_IFUNC + 1; /* a kind this build does not know */
	b = (struct buf){0};
	manifest_encode(&m, &b);
	syms[2].kind = SYM_EXTERNAL; /* restored before any assertion */
	ASSERT_ERR(decode_copy(b.data, b.len, &back), -EBADMSG);
	buf_free(&b);
}

TEST(empty_build_id_is_refused)
{
	struct manifest m, back;
	struct buf b;

	/* Without a build-id the target cannot be identified at all. */
	sample(&m);
	m.build_id_len = 0;
	encode(&m, &b);
	ASSERT_ERR(decode_copy(b.data, b.len, &back), -EBADMSG);
	buf_free(&b);
}

TEST(huge_counts_are_refused_before_allocating)
{
	struct buf b = {0};
	struct manifest back;

	/* A header claiming 2^32-1 CVEs must not make the decoder allocate. */
	buf_put_u32(&b, MANIFEST_VERSION);
	buf_put_str(&b, "n");
	buf_put_str(&b, "d");
	buf_put_str(&b, "/t");
	buf_put_blob(&b, "\x01", 1);
	buf_put_u32(&b, 3);
	buf_put_u32(&b, UINT32_MAX);
	ASSERT_ERR(decode_copy(b.data, b.len, &back), -EBADMSG);

	/* Same for functions: 0 CVEs, then MANIFEST_MAX_FUNCS + 1 functions. */
	b.len -= 4;
	buf_put_u32(&b, 0);
	buf_put_u32(&b, MANIFEST_MAX_FUNCS + 1);
	ASSERT_ERR(decode_copy(b.data, b.len, &back), -EBADMSG);
	buf_free(&b);
}

TEST(every_single_byte_flip_is_handled)
{
	struct manifest m, back;
	struct buf b;

	/* Not every flip is detectable (a flipped address is still an
	 * address), but none may crash or leak: decode, and free on success. */
	sample(&m);
	encode(&m, &b);
	for (size_t i = 0; i < b.len; i++) {
		b.data[i] ^= 0xff;
		if (decode_copy(b.data, b.len, &back) == 0)
			manifest_free(&back);
		b.data[i] ^= 0xff;
	}
	ASSERT_OK(decode_copy(b.data, b.len, &back));
	assert_same(&m, &back);
	manifest_free(&back);
	buf_free(&b);
}
