/* SPDX-License-Identifier: MIT */
/* The phases shared by both ways of building (patchlink.c). */
#pragma once

#include <limits.h>

#include "buf.h"
#include "build.h"
#include "manifest.h"
#include "patchobj.h"
#include "symtab.h"

struct elf_file;

struct build {
	const struct build_common *o;
	char tmp[PATH_MAX];
	struct elf_file *target;
	struct symtab syms;
	struct elf_file *obj;
	struct patch_meta meta;
	struct manifest man;
	char **objs;
	size_t nobjs;
	char hpo[PATH_MAX + 16];
	/* Added by the diff builder. */
	char **cves;
	size_t ncves;
	char *description;
	char *explain;
	char *verdict; /* verdict_encode()'s text for the bundle, or NULL */
	struct buf file_update; /* manifest.file_* describe it */
	/* Replacements from patch sources: check their registers (regcheck.h),
	 * and the thunks that keep them (thunk.h). */
	bool check_regs;
	struct thunk *thunks;
	size_t nthunks;
};

/* Opens the target and makes the scratch directory. */
int build_begin(struct build *b, const struct build_common *o);
int build_add_obj(struct build *b, const char *path);
/* Compiles a patch source -fPIC into @out. */
int build_compile(struct build *b, const char *src, const char *out);
/* Record, link, check, resolve and write the bundle. */
int build_finish(struct build *b);
void build_end(struct build *b);
const char *build_compiler(const struct build_common *o);
const char *build_include_dir(void);
