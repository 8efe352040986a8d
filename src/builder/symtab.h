/* SPDX-License-Identifier: MIT */
/*
 * The target's symbols, for resolving names a patch uses. Static (local)
 * symbols are told apart by the source file they come from (the STT_FILE
 * symbol they follow in .symtab). Comes from the target's own .symtab, from
 * separate debuginfo (found by build-id or given), or, failing both, from
 * .dynsym, which has exported symbols only.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct elf_file;

struct symtab_entry {
	char *name;
	char *file; /* NULL for global symbols */
	uint64_t value;
	uint64_t size;
	unsigned char type;
	unsigned char bind;
};

struct symtab {
	struct symtab_entry *v;
	size_t n;
	char *source; /* where the symbols came from, for messages */
	bool has_locals;
};

/* @debuginfo: explicit debuginfo file, or NULL to look under
 * @debug_root/.build-id/ (normally /usr/lib/debug). */
int symtab_load(struct elf_file *target, const char *debuginfo, const char *debug_root,
		struct symtab *ret);
/* The symbols of a rebuilt twin of the target (or its debuginfo), without
 * the build-id check: for a twin whose loaded sections were found identical
 * to the target's (twincheck.c), while its debug info, and so its build-id,
 * differ. */
int symtab_load_twin(const char *twin, struct symtab *ret);
void symtab_free(struct symtab *st);

/* Resolve @name (optionally the static one of @file). Returns -ENOENT when
 * there is no such symbol, and -ENOTUNIQ, with a message listing the
 * candidates, when the name is ambiguous. */
int symtab_lookup(const struct symtab *st, const char *name, const char *file,
		  const struct symtab_entry **ret);
/* The function symbol whose bytes hold @addr, or NULL. */
const struct symtab_entry *symtab_func_at(const struct symtab *st, uint64_t addr);
/* Does @file (as the user wrote it) name the STT_FILE @stt_file? */
bool symtab_file_matches(const char *stt_file, const char *file);
