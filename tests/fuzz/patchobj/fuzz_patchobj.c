/* SPDX-License-Identifier: MIT */
/*
 * The ELF reader sees patch objects from bundles and target files from
 * inside containers. Open the bytes as an ELF file, run what the builder and
 * loader run on a patch object, and walk every table the way the symbol
 * resolution does. Strings the reader hands out are read in full, so a name
 * pointing outside its table shows up under ASan.
 */
#include <stdlib.h>
#include <string.h>

#include "elffile.h"
#include "patchobj.h"

static volatile size_t sink;

static int on_symbol(const struct elf_sym *s, void *arg)
{
	struct elf_file *ef = arg;
	uint8_t bytes[64];

	sink += strlen(s->name) + (s->file ? strlen(s->file) : 0) +
		(s->version ? strlen(s->version) : 0);
	/* What the builder does with a function it replaces: read its bytes. */
	if (s->size <= sizeof(bytes))
		elf_file_read_vaddr(ef, s->value, bytes, s->size);
	return 0;
}

static int on_rela(const struct elf_rela *r, void *arg)
{
	struct elf_sym s;

	/* What the loader does with a relocation: look up its symbol. */
	if (r->sym && elf_file_dynsym(arg, r->sym, &s) == 0)
		sink += strlen(s.name);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct elf_file *ef;
	struct patch_meta m;
	uint8_t id[HP_BUILD_ID_MAX];
	size_t id_len;
	uint64_t lo, hi;

	if (elf_file_open_mem(data, size, "fuzz", &ef) < 0)
		return 0;
	patchobj_check(ef);
	if (patchobj_read_meta(ef, &m) == 0)
		patch_meta_free(&m);
	elf_file_foreach_symbol(ef, false, on_symbol, ef);
	elf_file_foreach_symbol(ef, true, on_symbol, ef);
	elf_file_foreach_dynrela(ef, on_rela, ef);
	elf_file_build_id(ef, id, &id_len);
	elf_file_load_span(ef, &lo, &hi);
	elf_file_close(ef);
	return 0;
}
