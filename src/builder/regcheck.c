/* SPDX-License-Identifier: MIT */
#include "regcheck.h"

#include <elf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "callgraph.h"
#include "clobber.h"
#include "dwarfinfo.h"
#include "error.h"
#include "manifest.h"
#include "progress.h"
#include "regslive.h"
#include "symtab.h"
#include "thunk.h"

static bool replaced(const struct regcheck *b, const struct symtab_entry *e)
{
	for (size_t i = 0; i < b->man->nfuncs; i++)
		if (b->man->funcs[i].vaddr == e->value)
			return true;
	return false;
}

struct risk {
	regset regs;     /* registers some caller keeps across the call */
	char who[512];   /* "respond, main and 3 more" */
	size_t n;
	bool wide;       /* one of them uses ymm or zmm registers */
};

/* Where a result comes back (dwarfinfo.h); the x87 stack and
 * %xmm16-%xmm31, which a thunk cannot save. */
#define RAX UINT64_C(0x1)
#define XMM0 (UINT64_C(0x1) << 9)
#define UNSAVED ((UINT64_C(0xffff) << 25) | (UINT64_C(1) << 41))
/* The ABI has the x87 stack empty at every call (a result in st0 aside):
 * no caller keeps a value there across one. */
#define X87 (UINT64_C(1) << 41)

static void add_caller(struct risk *k, const char *name, regset regs)
{
	size_t off = strlen(k->who);

	k->regs |= regs;
	if (k->n < 3)
		snprintf(k->who + off, sizeof(k->who) - off, "%s%s", k->n ? ", " : "", name);
	k->n++;
}

/* How many callers up a return is followed (regslive.h's after_return). */
#define RETURN_DEPTH 3

struct ctx {
	const struct regcheck *rc;
	const struct clobber_image *target;
	struct callgraph graph;
	bool have_graph;
};

static int live_after(struct ctx *c, const struct symtab_entry *caller, uint64_t callee,
		      int depth, regset *ret, bool *ret_wide);

/* What the code @fn returns to may read: the result, and what its direct
 * callers keep across the call (followed @depth callers up; beyond that,
 * everything @fn certainly leaves alone). A function called only through
 * pointers or from other files is held to the ABI. */
static int after_return(struct ctx *c, const struct symtab_entry *fn, int depth, regset *ret)
{
	const struct symtab_entry **callers = NULL;
	regset own, live;
	bool wide;
	size_t n = 0;
	int r;

	*ret = REGSLIVE_RESULT;
	if (depth <= 0) {
		r = clobber_set(c->target, fn->value, fn->size, CLOBBER_LOWER, &own);
		if (r == 0)
			*ret |= REGSET_ABI & ~own;
		return r;
	}
	r = callgraph_callers(&c->graph, fn->value, &callers, &n);
	for (size_t i = 0; r == 0 && i < n; i++) {
		/* A caller the patch replaces is new code: it keeps nothing. */
		if (replaced(c->rc, callers[i]))
			continue;
		r = live_after(c, callers[i], fn->value, depth - 1, &live, &wide);
		*ret |= live;
	}
	free(callers);
	return r;
}

static int live_after(struct ctx *c, const struct symtab_entry *caller, uint64_t callee,
		      int depth, regset *ret, bool *ret_wide)
{
	regset up;
	int r = after_return(c, caller, depth, &up);

	if (r == 0)
		r = regslive_after_calls(c->target, caller, callee, up, ret, ret_wide);
	return r;
}

/* The callers the patch does not replace that keep one of @extra across
 * their call. */
static int find_risk(struct ctx *c, const struct manifest_func *f, regset extra, struct risk *k)
{
	const struct symtab_entry **callers = NULL;
	size_t n = 0;
	regset live;
	bool wide = false;
	int r;

	r = callgraph_callers(&c->graph, f->vaddr, &callers, &n);
	for (size_t i = 0; r == 0 && i < n; i++) {
		if (replaced(c->rc, callers[i]))
			continue;
		r = live_after(c, callers[i], f->vaddr, RETURN_DEPTH, &live, &wide);
		if (r == 0 && (live & extra)) {
			add_caller(k, callers[i]->name, live & extra);
			k->wide = k->wide || wide;
		}
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

/* Can a thunk keep the registers (thunk.h)? 1 and it is planned, or 0
 * with the reason. */
static int plan_thunk(struct regcheck *b, size_t i, regset extra, const struct risk *k, char *why,
		      size_t len)
{
	const struct manifest_func *f = &b->man->funcs[i];
	enum dw_result res = DW_RESULT_NONE;
	struct thunk *nv;
	regset result;
	int r;

	if (k->wide) {
		snprintf(why, len, "a caller uses 256-bit vector registers, whose upper halves a "
				   "thunk does not save");
		return 0;
	}
	if (k->regs & UNSAVED) {
		snprintf(why, len, "a caller keeps a value in %%xmm16-%%xmm31");
		return 0;
	}
	r = dwarfinfo_args_in_regs(b->obj_path, f->new_name, &res, why, len);
	if (r == -ENOENT)
		snprintf(why, len, "the patch object has no debug info for %s", f->new_name);
	if (r <= 0)
		return r == -ENOENT ? 0 : r;
	result = res == DW_RESULT_RAX ? RAX : res == DW_RESULT_XMM0 ? XMM0 : 0;
	if (k->regs & result) {
		snprintf(why, len, "a caller keeps a value in the register the result comes back in");
		return 0;
	}
	nv = realloc(b->thunks, (b->nthunks + 1) * sizeof(*nv));
	if (!nv)
		return hp_err(-ENOMEM, "out of memory");
	b->thunks = nv;
	b->thunks[b->nthunks++] = (struct thunk){
		.func = i, .save = extra & ~UNSAVED & ~result};
	return 1;
}

static int check_one(struct regcheck *b, struct ctx *c, const struct clobber_image *patch,
		     size_t i, uint64_t new_size)
{
	const struct manifest_func *f = &b->man->funcs[i];
	struct risk k = {0};
	char regs[256], why[256];
	regset old, new;
	int r;

	r = clobber_set(c->target, f->vaddr, f->size, CLOBBER_LOWER, &old);
	if (r == 0)
		r = clobber_set(patch, f->new_vaddr, new_size, CLOBBER_UPPER, &new);
	if (r < 0)
		return hp_err_prefix(r, "comparing the registers %s changes: ", f->name);
	if (!(new & ~old & ~X87))
		return 0;
	if (!c->have_graph)
		r = callgraph_build(c->target, &c->graph);
	c->have_graph = r == 0;
	if (r == 0)
		r = find_risk(c, f, new & ~old & ~X87, &k);
	if (r < 0 || !k.n)
		return r;
	regset_format(k.regs, regs, sizeof(regs));
	r = plan_thunk(b, i, new & ~old & ~X87, &k, why, sizeof(why));
	if (r == 1)
		progress("%s: %s call%s it and keep%s %s across the call; the replacement is "
			 "wrapped to keep them (-fipa-ra)",
			 f->name, k.who, k.n == 1 ? "s" : "", k.n == 1 ? "s" : "", regs);
	if (r != 0)
		return r < 0 ? r : 0;
	return hp_err(-EINVAL,
		      "the replacement of %s may change %s, which %s leaves alone, and %s call%s "
		      "it directly and keep%s a value there across the call (GCC's -fipa-ra, on "
		      "at -O2, allows that), and it cannot be wrapped to keep them: %s; replace "
		      "%s in this patch too, or make the replacement leave those registers alone",
		      f->name, regs, f->name, k.who, k.n == 1 ? "s" : "", k.n == 1 ? "s" : "", why,
		      k.n == 1 ? "that caller" : "those callers");
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

int regcheck_replacements(struct regcheck *rc)
{
	struct symtab objsyms = {0};
	struct clobber_image target = {rc->target, rc->syms}, patch = {rc->obj, &objsyms};
	struct ctx c = {.rc = rc, .target = &target};
	uint64_t size = 0;
	int r;

	r = symtab_load(rc->obj, NULL, NULL, &objsyms);
	for (size_t i = 0; r == 0 && i < rc->man->nfuncs; i++) {
		r = new_size_of(&objsyms, rc->man->funcs[i].new_vaddr, &size);
		if (r == 0)
			r = check_one(rc, &c, &patch, i, size);
	}
	callgraph_free(&c.graph);
	symtab_free(&objsyms);
	return r;
}
