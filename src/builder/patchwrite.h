/* SPDX-License-Identifier: MIT */
/*
 * Writing the patch object (patch.o) of a diff build, with libelf.
 *
 * It holds every changed and new function of the fixed build, the
 * `.cold` parts that belong to them, new variables, and copies of the
 * read-only data they use (string literals, constant tables). Everything
 * else they reference stays in the target:
 *   - calls and GOT loads become references to undefined symbols, which the
 *     linker turns into PLT/GOT entries that the loader fills per process;
 *   - a static of the target is referenced through a unique alias recorded in
 *     .hotpatch.import (name and source file), as HOTPATCH_ALIAS would;
 *   - a direct PC-relative reference (how PIE and PIC code reach their own
 *     statics) cannot be linked into a shared object against an undefined
 *     symbol. It is pointed at a placeholder, its site marked with a local
 *     label symbol, and recorded in .hotpatch.textrel; the loader writes the
 *     real displacement per process through /proc/PID/mem.
 * Each changed function that exists in the target gets a .hotpatch.replace
 * entry; the rest of the pipeline is the one patch sources use.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"
#include "objdiff.h"

/* The name under which the patch asks for the target's initial-exec GOT
 * slot of thread-local variable NAME: PREFIX NAME. */
#define HP_TLS_SLOT_PREFIX "__hp_tpoff."

struct symtab;

struct patchwrite_result {
	size_t replaced;  /* functions redirected */
	size_t helpers;   /* changed functions not in the target, kept as helpers */
	size_t dropped;   /* changed functions not in the target, unused */
	size_t textrels;  /* PC-relative references relocated per process */
	struct buf explain; /* one line per function: what happens to it */
};

/* @objs: the fixed build's objects; @origs: the original build's, at the
 * same indexes (an entry with no sections when a file is new). */
int patchwrite(const char *path, const struct changes *c, struct obj *objs, struct obj *origs,
	       size_t nobjs, const struct symtab *target, const char *description,
	       char *const *cves, size_t ncves, struct patchwrite_result *ret);
