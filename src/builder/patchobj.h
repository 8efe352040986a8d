/* SPDX-License-Identifier: MIT */
/*
 * The linked patch object (.hpo): reading the intent its author declared with
 * <hotpatch/patch.h> (the .hotpatch.* sections), and refusing what the loader
 * cannot map safely without running code in the target.
 */
#pragma once

#include <stddef.h>

struct elf_file;

struct patch_replace {
	char *old;
	char *file;
	char *new;
};

struct patch_import {
	char *alias;
	char *name;
	char *file;
};

struct patch_meta {
	struct patch_replace *rep;
	size_t nrep;
	struct patch_import *imp;
	size_t nimp;
	char **cves;
	size_t ncves;
	char *description;
};

int patchobj_read_meta(struct elf_file *obj, struct patch_meta *ret);
void patch_meta_free(struct patch_meta *m);
const struct patch_import *patch_meta_import(const struct patch_meta *m, const char *alias);

/* Refuses thread-local storage, constructors, text relocations and any
 * relocation type the loader does not apply, each with a reason. */
int patchobj_check(struct elf_file *obj);
