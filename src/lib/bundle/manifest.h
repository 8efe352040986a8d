/* SPDX-License-Identifier: MIT */
/*
 * The manifest: what a bundle patches and how. It names the exact target
 * (path and build-id), each function to replace with the bytes expected
 * there, how each symbol the patch object needs is resolved, and the CVEs the
 * patch fixes. Encoded as a small length-prefixed binary format and decoded
 * with bounds-checked cursors: it is parsed only after the bundle's signature
 * has been verified, but it is fuzzed as if it were not.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arch.h"
#include "buf.h"

#define MANIFEST_VERSION 2
#define MANIFEST_MAX_FUNCS 4096
#define MANIFEST_MAX_SYMS 65536
#define MANIFEST_MAX_FUNC_SIZE (1u << 20)
#define MANIFEST_MAX_STR 4096

/* The redirecting jump (arch.h: x86-64 `jmp rel32`, arm64 `b`) and the
 * landing pad it may follow (x86-64 `endbr64`, arm64 `bti c`). */
#define JUMP_SIZE ARCH_JUMP_SIZE
#define ENDBR64_SIZE 4

struct manifest_func {
	char *name;      /* the replaced function in the target */
	char *file;      /* its source file when static, "" otherwise */
	uint64_t vaddr;  /* link-time address in the target */
	uint64_t size;
	uint32_t patch_off; /* where the jump goes: 0, or 4 after endbr64 */
	uint8_t *expected;  /* `size` bytes of the original function */
	char *new_name;     /* replacement symbol in the patch object */
	uint64_t new_vaddr; /* its link-time address in the patch object */
};

enum manifest_sym_kind {
	SYM_TARGET = 1,   /* defined in the target module: vaddr is exact */
	SYM_EXTERNAL = 2, /* from another module: resolved like ld.so would */
	SYM_TARGET_IFUNC = 3, /* an IFUNC of the target: vaddr is the GOT slot the
			       * target's own relocation filled with the
			       * implementation its resolver chose */
};

struct manifest_sym {
	char *name;
	uint8_t kind;
	uint8_t weak;  /* external and weak: may stay unresolved (0) */
	uint64_t vaddr;
	char *version; /* "" when unversioned */
};

/* A PC-relative reference from the patch's code to the target's data (how
 * PIE and PIC code reach their own statics), which no linker can resolve in
 * a shared object: the loader writes its displacement per process. */
struct manifest_textrel {
	uint64_t site;   /* link-time address of the field in the patch object */
	uint32_t type;   /* R_X86_64_PC32 or R_X86_64_PC64 */
	int64_t addend;
	uint64_t target; /* link-time address in the target */
};

enum manifest_flags {
	MANIFEST_HAS_FILE_UPDATE = 1u << 0,
};

struct manifest {
	char *name;
	char *description;
	char *target_path;
	uint8_t build_id[64];
	size_t build_id_len;
	uint16_t target_type; /* ET_EXEC or ET_DYN */
	char **cves;
	size_t ncves;
	struct manifest_func *funcs;
	size_t nfuncs;
	struct manifest_sym *syms;
	size_t nsyms;
	struct manifest_textrel *textrels;
	size_t ntextrels;
	uint64_t record_vaddr; /* __hotpatch_record in the patch object */
	uint32_t record_size;
	uint32_t flags;
	uint8_t file_sha_orig[32];
	uint8_t file_sha_fixed[32];
	uint64_t file_size_fixed;
	uint8_t file_method; /* 1: zstd of the whole file, 2: zstd delta */
	uint64_t created;
	char *tool_version;
};

void manifest_free(struct manifest *m);
void manifest_encode(const struct manifest *m, struct buf *out);
int manifest_decode(const uint8_t *p, size_t n, struct manifest *ret);
const struct manifest_func *manifest_find_func(const struct manifest *m, const char *name);
