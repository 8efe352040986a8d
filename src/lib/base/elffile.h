/* SPDX-License-Identifier: MIT */
/*
 * Reading ELF files with libelf: build-ids, sections, segments, symbols,
 * versions and relocations. Every input may be hostile (a file inside a
 * container, a bundle from the network), so every offset is checked against
 * the file before it is used.
 */
#pragma once

#include <gelf.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HP_BUILD_ID_MAX 64

struct elf_file;

int elf_file_open(const char *path, struct elf_file **ret);
/* Takes ownership of @fd. @name is used in messages only. */
int elf_file_open_fd(int fd, const char *name, struct elf_file **ret);
/* Copies @data, so the caller's buffer may go away. */
int elf_file_open_mem(const void *data, size_t size, const char *name, struct elf_file **ret);
struct elf_file *elf_file_close(struct elf_file *ef);

const char *elf_file_name(const struct elf_file *ef);
const GElf_Ehdr *elf_file_ehdr(const struct elf_file *ef);
Elf *elf_file_elf(const struct elf_file *ef);
/* The whole file image (read into memory when opened). */
const uint8_t *elf_file_image(const struct elf_file *ef, size_t *ret_size);

int elf_file_build_id(struct elf_file *ef, uint8_t *ret_id, size_t *ret_len);
/* Section by name; returns its data (not for SHT_NOBITS). -ENOENT if absent. */
int elf_file_section(struct elf_file *ef, const char *name, GElf_Shdr *ret_shdr,
		     const uint8_t **ret_data, size_t *ret_size);
/* PT_LOAD segments in file order. */
int elf_file_segments(struct elf_file *ef, GElf_Phdr **ret_phdrs, size_t *ret_n);
/* The first program header of @type, -ENOENT if none. */
int elf_file_phdr(struct elf_file *ef, uint32_t type, GElf_Phdr *ret);
/* Copy @len bytes at link-time address @vaddr from the file contents. */
int elf_file_read_vaddr(struct elf_file *ef, uint64_t vaddr, void *buf, size_t len);
/* Page-aligned span [lo, hi) covered by PT_LOAD segments. */
int elf_file_load_span(struct elf_file *ef, uint64_t *ret_lo, uint64_t *ret_hi);

struct elf_sym {
	const char *name;
	/* For local symbols of .symtab: the STT_FILE they follow, else NULL. */
	const char *file;
	uint64_t value;
	uint64_t size;
	size_t index;
	uint16_t shndx;
	unsigned char type;
	unsigned char bind;
	unsigned char visibility;
	/* Version name from .gnu.version_d/_r, NULL if unversioned. */
	const char *version;
	bool version_hidden;
};

typedef int (*elf_sym_cb)(const struct elf_sym *sym, void *arg);
/* Walk .symtab (@dynamic false) or .dynsym (@dynamic true). A callback
 * returning non-zero stops the walk and that value is returned. -ENOENT when
 * the table is absent. */
int elf_file_foreach_symbol(struct elf_file *ef, bool dynamic, elf_sym_cb cb, void *arg);

struct elf_rela {
	uint64_t offset;
	uint32_t type;
	uint32_t sym;
	int64_t addend;
};
typedef int (*elf_rela_cb)(const struct elf_rela *r, void *arg);
/* Walk every SHT_RELA section that applies to allocated memory. */
int elf_file_foreach_dynrela(struct elf_file *ef, elf_rela_cb cb, void *arg);
/* Look up .dynsym entry @index. */
int elf_file_dynsym(struct elf_file *ef, size_t index, struct elf_sym *ret);
