/* SPDX-License-Identifier: MIT */
#include "patchpick.h"

#include <elf.h>
#include <fcntl.h>
#include <gelf.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "error.h"
#include "macro.h"
#include "symtab.h"

const struct change *pick_change_of(const struct pw *w, const struct obj *o, size_t sec)
{
	for (size_t i = 0; i < w->c->n; i++)
		if (w->c->v[i].obj == o && w->c->v[i].sec == sec)
			return &w->c->v[i];
	return NULL;
}

struct incl *pick_included(const struct pw *w, const struct obj *o, size_t sec)
{
	for (size_t i = 0; i < w->ninc; i++)
		if (w->inc[i].obj == o && w->inc[i].sec == sec)
			return &w->inc[i];
	return NULL;
}

static int include(struct pw *w, struct obj *o, size_t sec, bool replace)
{
	struct incl *nv;

	if (pick_included(w, o, sec))
		return 0;
	nv = realloc(w->inc, (w->ninc + 1) * sizeof(*nv));
	if (!nv)
		return hp_err(-ENOMEM, "out of memory");
	w->inc = nv;
	nv[w->ninc++] = (struct incl){.obj = o, .sec = sec, .replace = replace};
	return 0;
}

bool pick_is_cold(const char *name)
{
	return strstr(name, ".cold") != NULL;
}

/* Does the target have this function (a static by its file)? */
static bool in_target(const struct pw *w, const struct obj *o, int sym)
{
	const struct symtab_entry *e;
	const struct osym *s = &o->sym[sym];
	int r = symtab_lookup(w->target, s->name, s->bind == STB_LOCAL ? o->file : NULL, &e);

	hp_err_clear();
	return r == 0 && e->type == STT_FUNC;
}

/*
 * A C++ inline function or template instance (vague linkage: weak, in a
 * COMDAT group) is compiled into every object that uses it, and the linker
 * keeps one copy. The fix changes each copy alike; the patch carries one.
 */
bool pick_copy_included(const struct pw *w, const struct obj *o, int sym)
{
	const struct osym *s = &o->sym[sym];

	if (s->bind == STB_LOCAL)
		return false;
	for (size_t i = 0; i < w->ninc; i++) {
		const struct obj *io = w->inc[i].obj;
		int owner = io->sec[w->inc[i].sec].owner;

		if (io != o && owner >= 0 && io->sym[owner].bind != STB_LOCAL &&
		    strcmp(io->sym[owner].name, s->name) == 0)
			return true;
	}
	return false;
}

/* The starting set: every changed function the target has. */
static int seed(struct pw *w)
{
	for (size_t i = 0; i < w->c->n; i++) {
		const struct change *ch = &w->c->v[i];
		int owner = ch->obj->sec[ch->sec].owner;

		if (ch->kind != CHANGE_FUNC || owner < 0 || pick_copy_included(w, ch->obj, owner))
			continue;
		if (!pick_is_cold(ch->obj->sym[owner].name) && in_target(w, ch->obj, owner)) {
			int r = include(w, ch->obj, ch->sec, true);

			if (r < 0)
				return r;
		}
	}
	if (!w->ninc)
		return hp_err(-EINVAL, "the fix changes no function of the target file (only "
				       "other binaries of the tree, or nothing the linker kept)");
	return 0;
}

/* Read-only data is copied into the patch (the copy cannot diverge); new
 * variables live in the patch; existing variables stay the target's, shared
 * with the code that is not replaced. */
static bool data_comes_along(const struct pw *w, const struct obj *o, size_t sec)
{
	const struct osec *s = &o->sec[sec];
	const struct obj *orig = &w->origs[o - w->objs];

	if (!(s->sh.sh_flags & SHF_WRITE) || strncmp(s->name, ".data.rel.ro", 12) == 0)
		return true;
	return !orig->nsec || obj_find_section(orig, s->name) < 0;
}

/*
 * A C++ class's vtable, typeinfo, typeinfo name, VTT or construction vtable.
 * Their addresses are the class's identity: an object the patch builds must
 * point to the same vtable as the others, and dynamic_cast, typeid and catch
 * compare typeinfo (of a class local to a file, by address). A copy in the
 * patch would make the patch's objects strangers to the process's code, so
 * the target's own is used. (One the fix changed differs in layout, which
 * the object comparison refuses.)
 */
static bool class_metadata_in_target(const struct pw *w, const struct obj *o, size_t sec)
{
	static const char *const prefixes[] = {"_ZTV", "_ZTI", "_ZTS", "_ZTT", "_ZTC"};
	const struct osec *s = &o->sec[sec];
	const struct osym *owner;
	const struct symtab_entry *e;
	int r;

	if (s->owner < 0)
		return false;
	owner = &o->sym[s->owner];
	for (size_t i = 0; i < ARRAY_SIZE(prefixes); i++) {
		if (strncmp(owner->name, prefixes[i], 4) != 0)
			continue;
		r = symtab_lookup(w->target, owner->name,
				  owner->bind == STB_LOCAL ? o->file : NULL, &e);
		hp_err_clear();
		return r == 0 && e->type == STT_OBJECT;
	}
	return false;
}

/* Should the section a relocation reaches come into the patch? */
static bool pulls_in(const struct pw *w, struct obj *o, size_t sec)
{
	const struct osec *s = &o->sec[sec];
	const struct change *ch = pick_change_of(w, o, sec);

	if (osec_is_code(s))
		return (ch && ch->kind == CHANGE_NEW_FUNC) ||
		       (s->owner >= 0 && pick_is_cold(o->sym[s->owner].name)) ||
		       (ch && ch->kind == CHANGE_FUNC && (s->owner < 0 || !in_target(w, o, s->owner)));
	if (!osec_is_data(s) || class_metadata_in_target(w, o, sec))
		return false;
	if (ch && ch->kind == CHANGE_CONST)
		return true;
	return (s->sh.sh_flags & SHF_MERGE) || data_comes_along(w, o, sec);
}

/* Everything the included code reaches that must come along. */
static int close_over(struct pw *w)
{
	for (size_t i = 0; i < w->ninc; i++) {
		struct obj *o = w->inc[i].obj;
		const struct osec *s = &o->sec[w->inc[i].sec];

		for (size_t k = 0; k < s->nrel; k++) {
			const struct osym *t = &o->sym[s->rel[k].sym];
			int r;

			if (t->shndx == SHN_UNDEF || t->shndx >= o->nsec || pick_included(w, o, t->shndx))
				continue;
			if (!pulls_in(w, o, t->shndx))
				continue;
			r = include(w, o, t->shndx, false);
			if (r < 0)
				return r;
		}
	}
	return 0;
}

int pick_add_local(struct pw *w, const char *name, size_t shndx, uint64_t value, uint64_t size,
		   unsigned char type)
{
	struct outsym *nv = realloc(w->loc, (w->nloc + 1) * sizeof(*nv));

	if (!nv)
		return -ENOMEM;
	w->loc = nv;
	nv[w->nloc] = (struct outsym){.name = strdup(name), .shndx = shndx, .value = value,
				      .size = size, .type = type, .bind = STB_LOCAL};
	return nv[w->nloc++].name ? 0 : -ENOMEM;
}

static bool name_taken(const struct pw *w, const char *name)
{
	for (size_t i = 0; i < w->nloc; i++)
		if (strcmp(w->loc[i].name, name) == 0)
			return true;
	return false;
}

/* Definitions keep their names when unique, so the replacement of f is f. */
static int define_symbols(struct pw *w)
{
	for (size_t i = 0; i < w->ninc; i++) {
		struct incl *in = &w->inc[i];
		struct obj *o = in->obj;
		size_t base = w->symbase[o - w->objs];

		in->out = i + 1;
		in->secsym = w->nloc;
		if (pick_add_local(w, "", in->out, 0, 0, STT_SECTION) < 0)
			return -ENOMEM;
		for (size_t k = 1; k < o->nsym; k++) {
			const struct osym *s = &o->sym[k];
			char name[512];

			if (s->shndx != in->sec || s->type == STT_SECTION || !s->name[0])
				continue;
			snprintf(name, sizeof(name), "%s", s->name);
			for (int n = 2; name_taken(w, name); n++)
				snprintf(name, sizeof(name), "%s.hp%d", s->name, n);
			w->symmap[base + k] = w->nloc + 1;
			if (pick_add_local(w, name, in->out, s->value, s->size, s->type) < 0)
				return -ENOMEM;
		}
	}
	return 0;
}

int pick_select(struct pw *w)
{
	int r = seed(w);

	if (r == 0)
		r = close_over(w);
	if (r == 0)
		r = define_symbols(w) < 0 ? hp_err(-ENOMEM, "out of memory") : 0;
	return r;
}
