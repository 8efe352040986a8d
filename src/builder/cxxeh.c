/* SPDX-License-Identifier: MIT */
#include "cxxeh.h"

#include <capstone/capstone.h>
#include <elf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "disasm.h"
#include "error.h"
#include "macro.h"
#include "objdiff.h"
#include "verdict.h"

/* How deep the calls into the same object are followed. */
#define CXXEH_DEPTH 8

bool cxxeh_is_cxx(const struct obj *o)
{
	static const char *const ext[] = {".cc", ".cpp", ".cxx", ".C", ".c++", ".cp", ".CPP"};
	const char *dot = o->file ? strrchr(o->file, '.') : NULL;

	for (size_t i = 0; dot && i < ARRAY_SIZE(ext); i++)
		if (strcmp(dot, ext[i]) == 0)
			return true;
	return false;
}

/* The function's own table: GCC names it after the function (per-function
 * sections); f.cold's landing pads are in f's table. */
static bool has_lsda(const struct obj *o, const char *name)
{
	char lsda[600];

	snprintf(lsda, sizeof(lsda), ".gcc_except_table.%.*s", (int)strcspn(name, "."), name);
	return obj_find_section(o, lsda) >= 0;
}

static const struct orel *rel_at(const struct osec *s, uint64_t off)
{
	for (size_t k = 0; k < s->nrel; k++)
		if (s->rel[k].offset == off)
			return &s->rel[k];
	return NULL;
}

/* The section that defines @name in @o, or -1. */
static int defined_in(const struct obj *o, const struct osym *t)
{
	if (t->shndx != SHN_UNDEF && t->shndx < o->nsec)
		return t->shndx;
	return -1;
}

static int crossed(const struct obj *o, size_t sec, int depth, char *why, size_t len);

/* One call instruction at @off: may what it calls throw? */
static int call_may_throw(const struct obj *o, const struct osec *s, const cs_insn *insn,
			  uint64_t off, int depth, char *why, size_t len)
{
	const cs_x86 *x = &insn->detail->x86;
	const struct orel *r = rel_at(s, off + insn->size - 4);
	const struct osym *t;
	int def;

	/* call f (rel32), or call *f@GOTPCREL(%rip) (-fno-plt) */
	bool direct = x->op_count == 1 &&
		      (x->operands[0].type == X86_OP_IMM ||
		       (x->operands[0].type == X86_OP_MEM && x->operands[0].mem.base == X86_REG_RIP));

	if (!direct || !r) {
		snprintf(why, len, "it makes an indirect call (a virtual function or a function "
				   "pointer), which may throw");
		return 1;
	}
	t = &o->sym[r->sym];
	if (t->type == STT_SECTION && t->shndx < o->nsec && o->sec[t->shndx].owner >= 0)
		t = &o->sym[o->sec[t->shndx].owner];
	if (strcmp(t->name, "__cxa_throw") == 0 || strcmp(t->name, "__cxa_rethrow") == 0) {
		snprintf(why, len, "it throws an exception");
		return 1;
	}
	if (strncmp(t->name, "_Z", 2) != 0)
		return 0; /* a C function */
	def = defined_in(o, t);
	if (def >= 0 && (size_t)def != (size_t)(s - o->sec) && depth < CXXEH_DEPTH) {
		char inner[300];
		int c = crossed(o, (size_t)def, depth + 1, inner, sizeof(inner));

		if (c != 1)
			return c;
	}
	if (def >= 0 && (size_t)def == (size_t)(s - o->sec))
		return 0; /* recursion adds nothing */
	snprintf(why, len, "it calls %s, which may throw", t->name);
	return 1;
}

static int crossed(const struct obj *o, size_t sec, int depth, char *why, size_t len)
{
	const struct osec *s = &o->sec[sec];
	const uint8_t *p = s->data;
	size_t size = s->data ? s->sh.sh_size : 0;
	uint64_t addr = 0;
	struct disasm d;
	int r;

	if (s->owner >= 0 && has_lsda(o, o->sym[s->owner].name)) {
		snprintf(why, len, "it catches or cleans up after exceptions");
		return 1;
	}
	hp_err_clear();
	r = disasm_open(&d);
	if (r < 0)
		return r;
	while (r == 0 && size && cs_disasm_iter(d.cs, &p, &size, &addr, d.insn))
		if (d.insn->id == X86_INS_CALL)
			r = call_may_throw(o, s, d.insn, d.insn->address, depth, why, len);
	disasm_close(&d);
	return r;
}

int cxxeh_crossed(const struct obj *o, size_t sec, char *why, size_t len)
{
	return crossed(o, sec, 0, why, len);
}

static int refuse_one(struct changes *c, const struct obj *fixed, size_t i)
{
	const struct osec *s = &fixed->sec[i];
	_cleanup_free_ char *fn = NULL, *msg = NULL;
	char why[400];
	int r;

	if (s->owner < 0)
		return 0;
	r = cxxeh_crossed(fixed, i, why, sizeof(why));
	if (r <= 0)
		return r;
	fn = strndup(fixed->sym[s->owner].name, strcspn(fixed->sym[s->owner].name, "."));
	if (!fn || asprintf(&msg,
			    "the fix changes the C++ function '%s' (%s), and an exception can "
			    "cross its frame: %s; the process's C++ runtime finds exception tables "
			    "only in the modules it loaded, not in a live patch, so the exception "
			    "would end the process: this needs a restart",
			    fn, fixed->file, why) < 0)
		return hp_err(-ENOMEM, "out of memory");
	refusal_free(&c->refusal);
	if (refusal_init(&c->refusal, REFUSAL_OTHER, fn, fixed->file, msg) < 0)
		return -ENOMEM;
	return hp_err(-EINVAL, "%s", msg);
}

int cxxeh_refuse(struct changes *c, size_t first, const struct obj *fixed)
{
	int r = 0;

	if (!cxxeh_is_cxx(fixed))
		return 0;
	for (size_t k = first; r == 0 && k < c->n; k++)
		if (c->v[k].kind != CHANGE_CONST && c->v[k].obj == fixed)
			r = refuse_one(c, fixed, c->v[k].sec);
	return r;
}
