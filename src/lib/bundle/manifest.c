/* SPDX-License-Identifier: MIT */
#include "manifest.h"

#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "strv.h"

void manifest_free(struct manifest *m)
{
	free(m->name);
	free(m->description);
	free(m->target_path);
	strv_free_n(m->cves, m->ncves);
	for (size_t i = 0; i < m->nfuncs; i++) {
		free(m->funcs[i].name);
		free(m->funcs[i].file);
		free(m->funcs[i].expected);
		free(m->funcs[i].new_name);
	}
	free(m->funcs);
	for (size_t i = 0; i < m->nsyms; i++) {
		free(m->syms[i].name);
		free(m->syms[i].version);
	}
	free(m->syms);
	free(m->textrels);
	free(m->tool_version);
	*m = (struct manifest){0};
}

void manifest_encode(const struct manifest *m, struct buf *out)
{
	buf_put_u32(out, MANIFEST_VERSION);
	buf_put_str(out, m->name);
	buf_put_str(out, m->description);
	buf_put_str(out, m->target_path);
	buf_put_blob(out, m->build_id, m->build_id_len);
	buf_put_u32(out, m->target_type);
	buf_put_u32(out, (uint32_t)m->ncves);
	for (size_t i = 0; i < m->ncves; i++)
		buf_put_str(out, m->cves[i]);
	buf_put_u32(out, (uint32_t)m->nfuncs);
	for (size_t i = 0; i < m->nfuncs; i++) {
		const struct manifest_func *f = &m->funcs[i];

		buf_put_str(out, f->name);
		buf_put_str(out, f->file);
		buf_put_u64(out, f->vaddr);
		buf_put_u32(out, f->patch_off);
		buf_put_blob(out, f->expected, f->size);
		buf_put_str(out, f->new_name);
		buf_put_u64(out, f->new_vaddr);
	}
	buf_put_u32(out, (uint32_t)m->nsyms);
	for (size_t i = 0; i < m->nsyms; i++) {
		buf_put_str(out, m->syms[i].name);
		buf_put_u8(out, m->syms[i].kind);
		buf_put_u8(out, m->syms[i].weak);
		buf_put_u64(out, m->syms[i].vaddr);
		buf_put_str(out, m->syms[i].version);
	}
	buf_put_u32(out, (uint32_t)m->ntextrels);
	for (size_t i = 0; i < m->ntextrels; i++) {
		buf_put_u64(out, m->textrels[i].site);
		buf_put_u32(out, m->textrels[i].type);
		buf_put_u64(out, (uint64_t)m->textrels[i].addend);
		buf_put_u64(out, m->textrels[i].target);
	}
	buf_put_u64(out, m->record_vaddr);
	buf_put_u32(out, m->record_size);
	buf_put_u32(out, m->flags);
	buf_put(out, m->file_sha_orig, 32);
	buf_put(out, m->file_sha_fixed, 32);
	buf_put_u64(out, m->file_size_fixed);
	buf_put_u8(out, m->file_method);
	buf_put_u64(out, m->created);
	buf_put_str(out, m->tool_version);
}

static int decode_funcs(struct cursor *c, struct manifest *m)
{
	uint32_t n = cur_u32(c);

	if (n > MANIFEST_MAX_FUNCS)
		return -EBADMSG;
	m->funcs = calloc(n ? n : 1, sizeof(*m->funcs));
	if (!m->funcs)
		return -ENOMEM;
	for (uint32_t i = 0; i < n && !c->bad; i++) {
		struct manifest_func *f = &m->funcs[i];
		const uint8_t *p;
		size_t len = 0;

		m->nfuncs++;
		f->name = cur_str(c, MANIFEST_MAX_STR);
		f->file = cur_str(c, MANIFEST_MAX_STR);
		f->vaddr = cur_u64(c);
		f->patch_off = cur_u32(c);
		p = cur_blob(c, MANIFEST_MAX_FUNC_SIZE, &len);
		if (!p)
			break;
		f->size = len;
		f->expected = malloc(len ? len : 1);
		if (!f->expected)
			return -ENOMEM;
		memcpy(f->expected, p, len);
		f->new_name = cur_str(c, MANIFEST_MAX_STR);
		f->new_vaddr = cur_u64(c);
		/* The jump must fit inside the function it replaces. */
		if (f->patch_off > ENDBR64_SIZE || f->size < f->patch_off + JUMP_SIZE)
			c->bad = true;
	}
	return c->bad ? -EBADMSG : 0;
}

static int decode_syms(struct cursor *c, struct manifest *m)
{
	uint32_t n = cur_u32(c);

	if (n > MANIFEST_MAX_SYMS)
		return -EBADMSG;
	m->syms = calloc(n ? n : 1, sizeof(*m->syms));
	if (!m->syms)
		return -ENOMEM;
	for (uint32_t i = 0; i < n && !c->bad; i++) {
		struct manifest_sym *s = &m->syms[i];

		m->nsyms++;
		s->name = cur_str(c, MANIFEST_MAX_STR);
		s->kind = cur_u8(c);
		s->weak = cur_u8(c);
		s->vaddr = cur_u64(c);
		s->version = cur_str(c, MANIFEST_MAX_STR);
		if (s->kind != SYM_TARGET && s->kind != SYM_EXTERNAL && s->kind != SYM_TARGET_IFUNC)
			c->bad = true;
	}
	return c->bad ? -EBADMSG : 0;
}

static int decode_textrels(struct cursor *c, struct manifest *m)
{
	uint32_t n = cur_u32(c);

	if (n > MANIFEST_MAX_SYMS)
		return -EBADMSG;
	m->textrels = calloc(n ? n : 1, sizeof(*m->textrels));
	if (!m->textrels)
		return -ENOMEM;
	for (uint32_t i = 0; i < n && !c->bad; i++) {
		struct manifest_textrel *t = &m->textrels[m->ntextrels++];

		t->site = cur_u64(c);
		t->type = cur_u32(c);
		t->addend = (int64_t)cur_u64(c);
		t->target = cur_u64(c);
		if (t->type != 2 /* PC32 */ && t->type != 24 /* PC64 */)
			c->bad = true;
	}
	return c->bad ? -EBADMSG : 0;
}

static int decode_body(struct cursor *c, struct manifest *m)
{
	uint32_t version = cur_u32(c), ncves;
	const uint8_t *bid;
	size_t bid_len = 0;
	int r;

	if (c->bad)
		return -EBADMSG;
	if (version != MANIFEST_VERSION)
		return -EPROTO;
	m->name = cur_str(c, MANIFEST_MAX_STR);
	m->description = cur_str(c, MANIFEST_MAX_STR * 4);
	m->target_path = cur_str(c, MANIFEST_MAX_STR);
	bid = cur_blob(c, sizeof(m->build_id), &bid_len);
	if (!bid || !bid_len)
		return -EBADMSG;
	memcpy(m->build_id, bid, bid_len);
	m->build_id_len = bid_len;
	m->target_type = (uint16_t)cur_u32(c);
	ncves = cur_u32(c);
	if (ncves > 1024)
		return -EBADMSG;
	m->cves = calloc(ncves ? ncves : 1, sizeof(char *));
	if (!m->cves)
		return -ENOMEM;
	for (uint32_t i = 0; i < ncves && !c->bad; i++)
		m->cves[m->ncves++] = cur_str(c, 64);
	r = decode_funcs(c, m);
	if (r < 0)
		return r;
	r = decode_syms(c, m);
	if (r == 0)
		r = decode_textrels(c, m);
	if (r < 0)
		return r;
	m->record_vaddr = cur_u64(c);
	m->record_size = cur_u32(c);
	m->flags = cur_u32(c);
	cur_get(c, m->file_sha_orig, 32);
	cur_get(c, m->file_sha_fixed, 32);
	m->file_size_fixed = cur_u64(c);
	m->file_method = cur_u8(c);
	m->created = cur_u64(c);
	m->tool_version = cur_str(c, MANIFEST_MAX_STR);
	if (c->bad || c->left)
		return -EBADMSG;
	if (!m->name || !m->description || !m->target_path || !m->tool_version)
		return -EBADMSG;
	return 0;
}

int manifest_decode(const uint8_t *p, size_t n, struct manifest *ret)
{
	struct cursor c = cursor_init(p, n);
	struct manifest m = {0};
	int r;

	r = decode_body(&c, &m);
	if (r < 0) {
		manifest_free(&m);
		if (r == -EPROTO)
			return hp_err(r, "the bundle's manifest has an unknown version; "
					 "upgrade hotpatch to read it");
		if (r == -ENOMEM)
			return hp_err(r, "out of memory");
		return hp_err(-EBADMSG, "the bundle's manifest is malformed");
	}
	*ret = m;
	return 0;
}

const struct manifest_func *manifest_find_func(const struct manifest *m, const char *name)
{
	for (size_t i = 0; i < m->nfuncs; i++)
		if (strcmp(m->funcs[i].name, name) == 0)
			return &m->funcs[i];
	return NULL;
}
