/* SPDX-License-Identifier: MIT */
/*
 * What a bundle's builder decided, as data: each refusal (what kind of
 * change, which symbol, which source file, the fix it was blamed on, why),
 * and the completeness check's counts. The builder fills it, the bundle
 * carries it (its own section, tab-separated lines), `info --json` shows it.
 * The words of a refusal are made from it once, by refusal_text(), for
 * --explain and the error message; nothing parses them back.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

struct json;

enum refusal_kind {
	REFUSAL_OTHER,
	REFUSAL_LAYOUT,      /* a struct's layout changed */
	REFUSAL_ASM,         /* code outside per-function sections changed */
	REFUSAL_IFUNC,       /* an IFUNC resolver changed */
	REFUSAL_CTOR,        /* a constructor or destructor */
	REFUSAL_TLS,         /* thread-local data */
	REFUSAL_DATA,        /* existing writable data's size or initial value */
	REFUSAL_RENUMBERED,  /* a function's static got another number */
	REFUSAL_INCOMPLETE,  /* the completeness check found it unaccounted for */
	REFUSAL_NO_APPLY,    /* the fix does not apply without refused ones */
	REFUSAL_DEPENDS,     /* it uses what a refused fix brings */
	REFUSAL_KIND_MAX,
};

struct refusal {
	enum refusal_kind kind;
	char *symbol;      /* the function, variable or struct it names, or NULL */
	char *source;      /* the source file it names, or NULL */
	char **made_from;  /* code refused as such: the sources its line table lists */
	size_t nmade_from;
	char *fix;         /* the fix it was blamed on, once blamed */
	char *reason;      /* why, in words: the sentence --explain shows */
};

/* The completeness check's counts, for functions or for data objects. */
struct verdict_counts {
	uint64_t compared, differ, replaced, inlined, cold, benign, refused, carried, only_new;
};

/* One fix's verdict (a patch of debian/patches, a part of one, or the
 * --diff of a source build). */
struct fix_outcome {
	char *name;
	char **cves;
	size_t ncves;
	char *verdict; /* live, refused, not-in-file, no-code-change, in-part */
	char *reason;  /* NULL for live */
};

struct verdict {
	bool checked; /* the completeness check ran and passed */
	struct verdict_counts funcs, objects;
	struct refusal *refusals;
	size_t nrefusals;
	struct fix_outcome *fixes;
	size_t nfixes;
};

const char *refusal_kind_name(enum refusal_kind k);
/* Fills @ret (strings copied; NULL ones stay NULL). */
int refusal_init(struct refusal *ret, enum refusal_kind kind, const char *symbol,
		 const char *source, const char *reason);
int refusal_copy(const struct refusal *r, struct refusal *ret);
void refusal_free(struct refusal *r);
/* The refusal in words: its reason, and the sources made from. */
void refusal_text(const struct refusal *r, struct buf *out);

/* Appends a copy of @r. */
int verdict_add_refusal(struct verdict *v, const struct refusal *r);
/* Appends fix @name's verdict (strings copied; @reason may be NULL). */
int verdict_add_fix(struct verdict *v, const char *name, char *const *cves, size_t ncves,
		    const char *verdict, const char *reason);
/* The bundle section's text (NUL-free), and back: a malformed line is
 * -EBADMSG. */
void verdict_encode(const struct verdict *v, struct buf *out);
int verdict_decode(const char *text, size_t len, struct verdict *ret);
/* "completeness": {...}, "refusals": [...] and "fixes": [...] into the open
 * object of @j. */
void verdict_json(const struct verdict *v, struct json *j);
void verdict_free(struct verdict *v);
