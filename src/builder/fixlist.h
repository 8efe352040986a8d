/* SPDX-License-Identifier: MIT */
/*
 * The fixes between two versions of a Debian source package (read by
 * fixread.c), and, once the live patch is built, the functions of the
 * target each changes and its verdict.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "build.h"
#include "buf.h"
#include "diffparse.h"
#include "verdict.h"

enum fix_verdict {
	FIX_IN_PATCH,    /* its functions are replaced by the live patch */
	FIX_REFUSED,     /* it changes the target, but not in a way that can be patched live */
	FIX_NOT_IN_FILE, /* it changes other files of the package (another binary, tests) */
	FIX_NO_CODE,     /* it changes a source file of the target, but no function's code */
	FIX_IN_PART,     /* some functions are replaced, but a hunk in a compiled source
			  * file of the target reaches no changed function: not live */
};


struct fix {
	char *name;  /* file name in debian/patches, or "PATCH: FILE" for a part */
	char *path;  /* the patch file, or the part's diff */
	char *file;  /* a part of a split patch: the one source file it changes */
	char *whole; /* a part of a split patch: that patch's name */
	struct diff_info diff;
	char **funcs;
	size_t nfuncs;
	enum fix_verdict verdict;
	char *reason;
	bool dependents_done; /* refused, and fixsplit_dependents() followed it */
};

struct fixlist {
	struct fix *v;
	size_t n;
	struct diff_info changelog; /* every CVE id the changelog names between the versions */
};

/* Appends a fix: @name, its diff at @path; for a part of a split patch,
 * the one source @file and the @whole patch's name (else NULL). */
int fixlist_add(struct fixlist *fl, const char *name, const char *path, const char *file,
		const char *whole);
/* Refuses one fix for @reason (kept short: a verdict, not a log). */
void fix_refuse(struct fix *f, const char *reason);
/* Does fix @f change the file a refusal names as @source (an object's file,
 * "../x/y.c", or the full path the debug info gives)? Never by base name
 * alone when @source has directories: a vendored deps/lib/util.c is not
 * src/util.c. */
bool fix_touches_source(const struct fix *f, const char *source);
/* Gives each fix its functions and verdict, from what the diff build found
 * changed in the target (@files: the source files of the target's objects). */
void fixlist_assign(struct fixlist *fl, const struct fn_change *v, size_t n,
		    const char *const *files, size_t nfiles);
/* The whole live patch was refused: every fix that changes the target is
 * refused for @reason. */
void fixlist_refuse(struct fixlist *fl, const char *reason);
/* One paragraph per fix, for --explain and the bundle. */
void fixlist_explain(const struct fixlist *fl, struct buf *out);
size_t fixlist_count(const struct fixlist *fl, enum fix_verdict v);
/* Each fix's verdict as data, appended to @out (verdict.h): live, refused,
 * not-in-file, no-code-change or in-part. */
int fixlist_verdicts(const struct fixlist *fl, struct verdict *out);
void fixlist_free(struct fixlist *fl);
