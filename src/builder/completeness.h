/* SPDX-License-Identifier: MIT */
/*
 * The completeness check: does the bundle carry every change the fix makes
 * to the target? It is independent of the object matcher it checks
 * (objdiff.c, build_diff.c's pairing): it never looks at the objects, only
 * at the LINKED old and fixed builds of the target file and at the bundle's
 * patch object.
 *
 * Every function and every data object of the old and the fixed file's
 * .symtab is compared with the other build's of the same identity (a static
 * by its name, the STT_FILE it follows and that file name's rank, so two
 * util.c of different directories stay apart): code instruction by
 * instruction, with the targets of PC-relative references and branches
 * compared by what they name (a symbol and offset, a read-only constant by
 * its bytes, a PLT/GOT slot by its dynamic symbol), not by address; data
 * byte by byte, words under a dynamic relocation (or, in a fixed-address
 * executable, holding an address of the image) by what they name.
 *
 * Each function that differs must be replaced by the bundle (or be the
 * .cold part of one that is), or be benign: only __LINE__ immediates the
 * diff moved. Each read-only data object that differs must be carried by the
 * bundle and used only by replaced functions (else the running code keeps
 * using the old one), or be benign: a version or build-id string (its name
 * says "version" or "build_id"). Writable data that differs is never
 * accounted for (a live patch does not rewrite the process's data).
 * Anything else fails the build, naming the function and its source file.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>


#include "buf.h"
#include "verdict.h"

struct diff_info;

struct completeness_input {
	const char *old_code, *old_syms; /* the original build's file, and where its .symtab is */
	const char *new_code, *new_syms; /* the fixed build's */
	const char *patch_obj;           /* the bundle's patch object; NULL: nothing is
					  * replaced, so nothing may differ but benignly */
	const struct diff_info *diff;    /* for lines that only moved */
	const char *target;              /* the file the bundle is for, to name it */
	/* What the builder knows of inlining: (callee, caller) name pairs. A
	 * function that differs, is not replaced, but is inlined into one that
	 * is, is accounted for: its changed code runs in the caller's copy. */
	const char *const *inlined;
	size_t ninlined; /* pairs */
	/* Go on past an unaccounted difference, collecting each as a refusal
	 * (for a caller that can leave the fix it belongs to out). */
	bool collect;
};

struct completeness_result {
	size_t funcs, funcs_differ, replaced, cold, benign_lines, inlined;
	size_t refused;            /* differences left unaccounted (with collect) */
	struct refusal *unaccounted; /* each, as a refusal naming its source file */
	size_t nunaccounted;
	size_t objects, objects_differ, carried, benign_version;
	size_t only_new_funcs, only_new_objects; /* only the fixed build has them */
	struct buf explain;        /* the counts, for --explain and the bundle */
};

/* 0 when every difference is accounted for; otherwise a negative errno
 * with a message naming the first unaccounted function or object and its
 * source file. */
int completeness_check(const struct completeness_input *in, struct completeness_result *ret);
void completeness_result_free(struct completeness_result *r);
