/* SPDX-License-Identifier: MIT */
#include "regcheck.h"

#include <elf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clobber.h"
#include "error.h"
#include "patchlink.h"
#include "regslive.h"

static bool replaced(const struct build *b, const struct symtab_entry *e)
{
	for (size_t i = 0; i < b->man.nfuncs; i++)
		if (b->man.funcs[i].vaddr == e->value)
			return true;
	return false;
}

struct risk {
	regset regs;     /* registers some caller keeps across the call */
	char who[512];   /* "respond, main and 3 more" */
	size_t n;
};

static void add_caller(struct risk *k, const char *name, regset regs)
{
	size_t off = strlen(k->who);

	k->regs |= regs;
	if (k->n < 3)
		snprintf(k->who + off, sizeof(k->who) - off, "%s%s", k->n ? ", " : "", name);
	k->n++;
}

/* The callers the patch does not replace that keep one of @extra across
 * their call. */
static int find_risk(const struct build *b, const struct clobber_image *target,
		     const struct manifest_func *f, regset extra, struct risk *k)
{
	const struct symtab_entry **callers = NULL;
	size_t n = 0;
	regset live;
	int r;

	r = clobber_callers(target, f->vaddr, &callers, &n);
	for (size_t i = 0; r == 0 && i < n; i++) {
		if (replaced(b, callers[i]))
			continue;
		r = regslive_after_calls(target, callers[i], f->vaddr, &live);
		if (r == 0 && (live & extra))
			add_caller(k, callers[i]->name, live & extra);
	}
	free(callers);
	if (r < 0)
		return hp_err_prefix(r, "finding the callers of %s: ", f->name);
	if (k->n > 3) {
		size_t off = strlen(k->who);

		snprintf(k->who + off, sizeof(k->who) - off, " and %zu more", k->n - 3);
	}
	return 0;
}

static int check_one(struct build *b, const struct clobber_image *target,
		     const struct clobber_image *patch, const struct manifest_func *f,
		     uint64_t new_size)
{
	struct risk k = {0};
	char regs[256];
	regset old, new;
	int r;

	r = clobber_set(target, f->vaddr, f->size, CLOBBER_LOWER, &old);
	if (r == 0)
		r = clobber_set(patch, f->new_vaddr, new_size, CLOBBER_UPPER, &new);
	if (r < 0)
		return hp_err_prefix(r, "comparing the registers %s changes: ", f->name);
	if (!(new & ~old))
		return 0;
	r = find_risk(b, target, f, new & ~old, &k);
	if (r < 0 || !k.n)
		return r;
	regset_format(k.regs, regs, sizeof(regs));
	return hp_err(-EINVAL,
		      "the replacement of %s may change %s, which %s leaves alone, and %s call%s "
		      "it directly and keep%s a value there across the call (GCC's -fipa-ra, on "
		      "at -O2, allows that); replace %s in this patch too, or write the "
		      "replacement so that it leaves %s alone",
		      f->name, regs, f->name, k.who, k.n == 1 ? "s" : "", k.n == 1 ? "s" : "",
		      k.n == 1 ? "that caller" : "those callers", regs);
}

static int new_size_of(const struct symtab *st, uint64_t vaddr, uint64_t *ret)
{
	for (size_t i = 0; i < st->n; i++)
		if (st->v[i].type == STT_FUNC && st->v[i].value == vaddr) {
			*ret = st->v[i].size;
			return 0;
		}
	return hp_err(-ENOENT, "no function symbol at 0x%llx in the patch object",
		      (unsigned long long)vaddr);
}

int regcheck_replacements(struct build *b)
{
	struct symtab objsyms = {0};
	struct clobber_image target = {b->target, &b->syms}, patch = {b->obj, &objsyms};
	uint64_t size = 0;
	int r;

	r = symtab_load(b->obj, NULL, NULL, &objsyms);
	for (size_t i = 0; r == 0 && i < b->man.nfuncs; i++) {
		r = new_size_of(&objsyms, b->man.funcs[i].new_vaddr, &size);
		if (r == 0)
			r = check_one(b, &target, &patch, &b->man.funcs[i], size);
	}
	symtab_free(&objsyms);
	return r;
}
