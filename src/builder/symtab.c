/* SPDX-License-Identifier: MIT */
#include "symtab.h"

#include <elf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "elffile.h"
#include "error.h"
#include "hex.h"
#include "macro.h"

void symtab_free(struct symtab *st)
{
	for (size_t i = 0; i < st->n; i++) {
		free(st->v[i].name);
		free(st->v[i].file);
	}
	free(st->v);
	free(st->source);
	*st = (struct symtab){0};
}

struct collect {
	struct symtab *st;
	size_t cap;
	int err;
};

static bool symbol_wanted(const struct elf_sym *s)
{
	if (s->shndx == SHN_UNDEF || !s->name[0])
		return false;
	/* STT_TLS: a patch may reach the target's thread-locals (errno) */
	return s->type == STT_FUNC || s->type == STT_OBJECT || s->type == STT_NOTYPE ||
	       s->type == STT_GNU_IFUNC || s->type == STT_TLS;
}

static int collect_cb(const struct elf_sym *s, void *arg)
{
	struct collect *c = arg;
	struct symtab_entry *e;

	if (!symbol_wanted(s))
		return 0;
	if (c->st->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 256;
		struct symtab_entry *nv = realloc(c->st->v, cap * sizeof(*nv));

		if (!nv)
			return -ENOMEM;
		c->st->v = nv;
		c->cap = cap;
	}
	e = &c->st->v[c->st->n];
	/* ld writes "name@VERSION" into .symtab for versioned symbols. */
	*e = (struct symtab_entry){
		.name = strndup(s->name, strcspn(s->name, "@")),
		.file = s->file ? strdup(s->file) : NULL,
		.value = s->value,
		.size = s->size,
		.type = s->type,
		.bind = s->bind,
	};
	if (!e->name || (s->file && !e->file)) {
		free(e->name);
		free(e->file);
		return -ENOMEM;
	}
	c->st->n++;
	if (s->bind == STB_LOCAL)
		c->st->has_locals = true;
	return 0;
}

static int load_from(struct elf_file *ef, bool dynamic, const char *source, struct symtab *st)
{
	struct collect c = {.st = st};
	int r;

	r = elf_file_foreach_symbol(ef, dynamic, collect_cb, &c);
	if (r == -ENOMEM)
		return hp_err(r, "out of memory");
	if (r < 0)
		return r;
	st->source = strdup(source);
	return st->source ? 0 : hp_err(-ENOMEM, "out of memory");
}

static int open_debuginfo(struct elf_file *target, const char *debuginfo, const char *debug_root,
			  struct elf_file **ret)
{
	uint8_t id[HP_BUILD_ID_MAX];
	char hex[2 * HP_BUILD_ID_MAX + 1], path[4096];
	size_t idlen;
	int r;

	if (debuginfo)
		return elf_file_open(debuginfo, ret);
	r = elf_file_build_id(target, id, &idlen);
	if (r < 0 || idlen < 2)
		return -ENOENT;
	hex_encode(id, idlen, hex);
	snprintf(path, sizeof(path), "%s/.build-id/%.2s/%s.debug",
		 debug_root ? debug_root : "/usr/lib/debug", hex, hex + 2);
	if (access(path, R_OK) < 0)
		return -ENOENT;
	return elf_file_open(path, ret);
}

static int check_debuginfo_matches(struct elf_file *target, struct elf_file *dbg)
{
	uint8_t a[HP_BUILD_ID_MAX], b[HP_BUILD_ID_MAX];
	size_t alen, blen;

	if (elf_file_build_id(target, a, &alen) < 0 || elf_file_build_id(dbg, b, &blen) < 0 ||
	    alen != blen || memcmp(a, b, alen) != 0)
		return hp_err(-EINVAL, "debuginfo %s does not belong to %s (build-ids differ)",
			      elf_file_name(dbg), elf_file_name(target));
	return 0;
}

int symtab_load(struct elf_file *target, const char *debuginfo, const char *debug_root,
		struct symtab *ret)
{
	struct symtab st = {0};
	struct elf_file *dbg = NULL;
	int r;

	/* The target's own .symtab is the most direct source of truth. */
	r = load_from(target, false, elf_file_name(target), &st);
	if (r == 0 && !debuginfo)
		goto done;
	symtab_free(&st);
	if (r < 0 && r != -ENOENT)
		return r;
	r = open_debuginfo(target, debuginfo, debug_root, &dbg);
	if (r == 0) {
		r = check_debuginfo_matches(target, dbg);
		if (r == 0)
			r = load_from(dbg, false, elf_file_name(dbg), &st);
		elf_file_close(dbg);
		if (r == 0)
			goto done;
		symtab_free(&st);
		if (r != -ENOENT || debuginfo)
			return r;
	} else if (debuginfo) {
		return r;
	}
	/* Exported symbols only: statics will not resolve, and say why then. */
	r = load_from(target, true, elf_file_name(target), &st);
	if (r < 0) {
		symtab_free(&st);
		return r == -ENOENT ? hp_err(r, "%s has no symbol table and no debuginfo was found; "
						"install its -dbgsym package or pass --debuginfo",
					     elf_file_name(target))
				    : r;
	}
done:
	*ret = st;
	return 0;
}

bool symtab_file_matches(const char *stt_file, const char *file)
{
	size_t a, b;

	if (!stt_file || !file)
		return false;
	if (strcmp(stt_file, file) == 0)
		return true;
	a = strlen(stt_file);
	b = strlen(file);
	/* "server.c" names "../src/server.c"; "src/server.c" names it too. */
	if (a > b && stt_file[a - b - 1] == '/' && strcmp(stt_file + a - b, file) == 0)
		return true;
	if (b > a && file[b - a - 1] == '/' && strcmp(file + b - a, stt_file) == 0)
		return true;
	return false;
}

static int ambiguous(const struct symtab *st, const char *name)
{
	struct buf files = {0};
	int r;

	for (size_t i = 0; i < st->n; i++)
		if (strcmp(st->v[i].name, name) == 0 && st->v[i].bind == STB_LOCAL)
			buf_printf(&files, "%s%s", files.len ? ", " : "",
				   st->v[i].file ? st->v[i].file : "?");
	r = hp_err(-ENOTUNIQ,
		   "'%s' is a static symbol in several files of the target (%s); say which one "
		   "with HOTPATCH_LOCAL(%s, \"FILE.c\")",
		   name, buf_cstr(&files) ? (char *)files.data : "?", name);
	buf_free(&files);
	return r;
}

int symtab_lookup(const struct symtab *st, const char *name, const char *file,
		  const struct symtab_entry **ret)
{
	const struct symtab_entry *global = NULL, *local = NULL;
	size_t nlocal = 0;

	for (size_t i = 0; i < st->n; i++) {
		const struct symtab_entry *e = &st->v[i];

		if (strcmp(e->name, name) != 0)
			continue;
		if (file && *file) {
			if (e->bind == STB_LOCAL && symtab_file_matches(e->file, file)) {
				*ret = e;
				return 0;
			}
			continue;
		}
		if (e->bind != STB_LOCAL) {
			if (!global)
				global = e;
		} else if (!local || local->value != e->value) {
			local = e;
			nlocal++;
		}
	}
	if (file && *file)
		return hp_err(-ENOENT, "the target has no static symbol '%s' in file %s", name,
			      file);
	if (global) {
		*ret = global;
		return 0;
	}
	if (nlocal == 1) {
		*ret = local;
		return 0;
	}
	if (nlocal > 1)
		return ambiguous(st, name);
	return hp_err(-ENOENT, "the target has no symbol '%s'%s", name,
		      st->has_locals ? "" : " (only exported symbols are known: pass --debuginfo)");
}

int symtab_load_twin(const char *twin, struct symtab *ret)
{
	struct symtab st = {0};
	struct elf_file *ef = NULL;
	int r = elf_file_open(twin, &ef);

	if (r == 0)
		r = load_from(ef, false, twin, &st);
	elf_file_close(ef);
	if (r < 0) {
		symtab_free(&st);
		return r == -ENOENT ? hp_err(r, "the twin %s has no symbol table", twin) : r;
	}
	*ret = st;
	return 0;
}

const struct symtab_entry *symtab_func_at(const struct symtab *st, uint64_t addr)
{
	for (size_t i = 0; i < st->n; i++) {
		const struct symtab_entry *e = &st->v[i];

		if (e->type == STT_FUNC && e->size && addr >= e->value && addr < e->value + e->size)
			return e;
	}
	return NULL;
}
