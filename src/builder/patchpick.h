/* SPDX-License-Identifier: MIT */
/*
 * Choosing what goes into the patch object (patchwrite.c writes it): the
 * changed functions of the fixed build and what they pull in (their .cold
 * parts, new variables, copies of read-only data), closed over their
 * references; class metadata and whatever the target already has stay in
 * the target. Also the state the two share.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "objdiff.h"

struct patchwrite_result;
struct symtab;

/* A section of the fixed build that goes into the patch. */
struct incl {
	struct obj *obj;
	size_t sec;
	size_t out;    /* its index in patch.o */
	size_t secsym; /* its section symbol */
	bool replace;  /* its owner redirects the target's function */
};

/* Something the patch uses that stays in the target (or its libraries). */
struct ext {
	char *out;  /* the undefined symbol's name in patch.o */
	char *name; /* the target's symbol */
	char *file; /* for a static, its source file; else NULL */
	bool weak;
};

struct outsym {
	char *name;
	size_t shndx; /* output section, 0 for undefined */
	uint64_t value, size;
	unsigned char type, bind;
};

struct pw {
	const struct changes *c;
	struct obj *objs;
	struct obj *origs;
	size_t nobjs;
	const struct symtab *target;
	struct incl *inc;
	size_t ninc;
	struct ext *ext;
	size_t next;
	struct outsym *loc; /* locals (section symbols, definitions, site labels) */
	size_t nloc;
	size_t *symmap; /* per (object, symbol): local index + 1, 0 if none */
	size_t *symbase;
	struct buf replace, import, textrel;
	size_t sites;
	struct patchwrite_result *res;
};

/* Seeds the selection with the changed functions, closes it over what they
 * reference, and defines the local symbols of what was chosen. */
int pick_select(struct pw *w);
const struct change *pick_change_of(const struct pw *w, const struct obj *o, size_t sec);
/* The entry of section @sec of @o when it goes into the patch, else NULL. */
struct incl *pick_included(const struct pw *w, const struct obj *o, size_t sec);
bool pick_is_cold(const char *name);
/* Is symbol @sym of @o carried in the patch (rather than referenced in the
 * target)? */
bool pick_copy_included(const struct pw *w, const struct obj *o, int sym);
int pick_add_local(struct pw *w, const char *name, size_t shndx, uint64_t value, uint64_t size,
		   unsigned char type);
