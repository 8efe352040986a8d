/* SPDX-License-Identifier: MIT */
/*
 * Comparing the objects of the original and the fixed build, section by
 * section (both built with -ffunction-sections -fdata-sections, so each
 * function and each variable has a section of its own).
 *
 * A function counts as changed when its bytes differ or when a relocation
 * points somewhere else. Relocations are compared by what they point to, not
 * where: a symbol's name (and, for a static, its file), a string literal's
 * text, a constant's own section. So code that only moved, or strings that
 * only got new offsets in a merged string table, do not count. A function
 * that uses a read-only constant whose value changed counts as changed too.
 *
 * Existing writable data whose size or initial value changed, thread-local
 * data, or code outside per-function sections that changed, cannot be
 * patched live: those are refusals, each naming the symbol.
 */
#pragma once

#include <gelf.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "verdict.h"

struct elf_file;

struct orel {
	uint64_t offset;
	uint32_t type;
	uint32_t sym;
	int64_t addend;
};

struct osec {
	const char *name;
	GElf_Shdr sh;
	const uint8_t *data; /* NULL for SHT_NOBITS */
	struct orel *rel;
	size_t nrel;
	int owner; /* the FUNC or OBJECT symbol at offset 0, -1 if none */
};

struct osym {
	const char *name;
	uint64_t value;
	uint64_t size;
	uint16_t shndx;
	unsigned char type, bind, vis;
};

/* One relocatable object. */
struct obj {
	char *path;
	char *rel;  /* path relative to its build tree: pairs the two builds */
	char *file; /* the source file (first STT_FILE), for telling statics apart */
	struct elf_file *ef;
	struct osec *sec;
	size_t nsec;
	struct osym *sym;
	size_t nsym;
};

int obj_open(const char *path, const char *rel, struct obj *ret);
void obj_close(struct obj *o);
int obj_find_section(const struct obj *o, const char *name);
bool osec_is_code(const struct osec *s);
bool osec_is_data(const struct osec *s);

enum change_kind {
	CHANGE_FUNC,     /* a function whose code changed */
	CHANGE_NEW_FUNC, /* a function only the fixed build has */
	CHANGE_CONST,    /* read-only data whose value changed */
};

struct change {
	enum change_kind kind;
	struct obj *obj; /* the fixed build's object */
	size_t sec;      /* the section in it */
	char *why;       /* for --explain */
};

struct diff_info;

struct changes {
	struct change *v;
	size_t n;
	/* The diff, if known: a function whose only difference is a line
	 * number the diff moved does not count as changed (linemove.h). */
	const struct diff_info *diff;
	size_t moved; /* how many functions that spared */
	struct refusal refusal; /* what the last refusal of objdiff_pair() was */
};

/* Compares one pair of objects, appending to @out. Returns a negative errno
 * with a message on a change that cannot be patched live. */
int objdiff_pair(struct obj *orig, struct obj *fixed, struct changes *out);
void changes_free(struct changes *c);
/* The name a section's contents go by: its owner symbol, else itself. */
const char *osec_label(const struct obj *o, size_t sec);
