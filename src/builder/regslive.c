/* SPDX-License-Identifier: MIT */
#include "regslive.h"

#include <stdbool.h>
#include <stdlib.h>

#include "disasm.h"
#include "elffile.h"
#include "error.h"
#include "symtab.h"

/* rax rcx rdx rsi rdi r8 r9 (rax: the vector count of a variadic call) and
 * xmm0..xmm7: what a call may read. */
#define ARG_REGS (UINT64_C(0x7f) | (UINT64_C(0xff) << 9))
/* How many calls deep the registers a callee reads are followed. */
#define ARGS_DEPTH 2

/* K_ANY: a jump through a register or memory; it may go anywhere in the
 * function (a switch table) or leave it (a tail call through a pointer). */
enum kind { K_NEXT, K_COND, K_JMP, K_STOP, K_ANY };

struct li {
	uint64_t addr, target;
	uint64_t to; /* a call's or jump's own address operand, or 0 */
	bool call;
	regset use, def, in;
	enum kind kind;
};

struct fn {
	struct li *v;
	size_t n;
	bool wide; /* some instruction names a ymm or zmm register */
};

struct ctx {
	const struct clobber_image *img;
	struct disasm d;
};

static int analyse(struct ctx *c, const struct symtab_entry *e, regset ret_use, int depth,
		   struct fn *f);

/* The registers the function at @to may read as arguments. */
static int args_of(struct ctx *c, uint64_t to, int depth, regset *ret)
{
	const struct symtab_entry *g = symtab_func_at(c->img->syms, to);
	struct fn f = {0};
	int r;

	*ret = ARG_REGS;
	if (!g || g->value != to || depth <= 0)
		return 0;
	r = analyse(c, g, 0, depth - 1, &f);
	/* Arguments come in argument registers only: anything else it reads
	 * before writing is no value of its caller's. */
	if (r == 0 && f.n)
		*ret = f.v[0].in & ARG_REGS;
	free(f.v);
	return r;
}

/* A call: reads its callee's arguments, ends the values of the registers
 * its callee certainly changes (through the PLT or a pointer: all). */
static int classify_call(struct ctx *c, struct li *l, const cs_insn *insn, int depth)
{
	const struct symtab_entry *g;
	uint64_t to;
	regset args, changes = REGSET_ABI;
	int r;

	l->kind = K_NEXT;
	if (!disasm_direct_target(insn, &to)) {
		l->use |= ARG_REGS;
		l->def |= REGSET_ABI;
		return 0;
	}
	r = args_of(c, to, depth, &args);
	g = symtab_func_at(c->img->syms, to);
	if (r == 0 && g && g->value == to)
		r = clobber_set(c->img, g->value, g->size, CLOBBER_LOWER, &changes);
	l->use |= args;
	l->def |= changes;
	return r;
}

static int classify_jump(struct ctx *c, struct li *l, const cs_insn *insn,
			 const struct symtab_entry *e, regset ret_use, int depth)
{
	bool always = insn->id == X86_INS_JMP;
	uint64_t to;
	regset args;
	int r;

	if (!disasm_direct_target(insn, &to)) {
		l->use |= ARG_REGS | ret_use;
		l->kind = K_ANY;
		return 0;
	}
	if (to >= e->value && to < e->value + e->size) {
		l->target = to;
		l->kind = always ? K_JMP : K_COND;
		return 0;
	}
	/* A tail call: the callee's arguments, then this function's return. */
	r = args_of(c, to, depth, &args);
	l->use |= args | ret_use;
	l->kind = always ? K_STOP : K_NEXT;
	return r;
}

static int classify(struct ctx *c, struct li *l, const cs_insn *insn,
		    const struct symtab_entry *e, regset ret_use, int depth)
{
	l->addr = insn->address;
	l->def = clobber_writes(c->d.cs, insn, true, &l->use);
	l->call = disasm_in_group(insn, CS_GRP_CALL);
	if (!disasm_direct_target(insn, &l->to))
		l->to = 0;
	if (l->call)
		return classify_call(c, l, insn, depth);
	if (disasm_in_group(insn, CS_GRP_RET)) {
		l->use |= ret_use;
		l->kind = K_STOP;
	} else if (disasm_in_group(insn, CS_GRP_JUMP)) {
		return classify_jump(c, l, insn, e, ret_use, depth);
	} else if (insn->id == X86_INS_UD2 || insn->id == X86_INS_HLT) {
		l->kind = K_STOP;
	} else {
		l->kind = K_NEXT;
	}
	return 0;
}

static bool names_wide(const cs_insn *insn)
{
	const cs_x86 *x = &insn->detail->x86;

	for (uint8_t i = 0; i < x->op_count; i++)
		if (x->operands[i].type == X86_OP_REG && x->operands[i].reg >= X86_REG_YMM0 &&
		    x->operands[i].reg <= X86_REG_ZMM31)
			return true;
	return false;
}

static int decode(struct ctx *c, const struct symtab_entry *e, regset ret_use, int depth,
		  struct fn *f)
{
	uint8_t *code = malloc(e->size);
	const uint8_t *p = code;
	uint64_t addr = e->value;
	size_t left = e->size;
	int r;

	f->v = calloc(e->size + 1, sizeof(*f->v)); /* no more instructions than bytes */
	if (!code || !f->v) {
		free(code);
		return hp_err(-ENOMEM, "out of memory");
	}
	r = elf_file_read_vaddr(c->img->elf, e->value, code, e->size);
	while (r == 0 && left && cs_disasm_iter(c->d.cs, &p, &left, &addr, c->d.insn)) {
		f->wide = f->wide || names_wide(c->d.insn);
		r = classify(c, &f->v[f->n++], c->d.insn, e, ret_use, depth);
	}
	/* Bytes capstone cannot decode end the function: whatever runs there
	 * may need anything. */
	if (r == 0 && left) {
		f->v[f->n] = (struct li){.addr = addr, .use = REGSET_ABI, .kind = K_STOP};
		f->n++;
	}
	free(code);
	return r;
}

static regset live_at(const struct fn *f, uint64_t addr)
{
	size_t lo = 0, hi = f->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (f->v[mid].addr < addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	/* Into the middle of an instruction: anything. */
	return lo < f->n && f->v[lo].addr == addr ? f->v[lo].in : REGSET_ABI;
}

/* @anywhere: what is live at any instruction of the function. */
static regset live_out(const struct fn *f, size_t i, regset anywhere)
{
	const struct li *l = &f->v[i];
	regset out = 0;

	if (l->kind == K_ANY)
		return anywhere;
	if ((l->kind == K_NEXT || l->kind == K_COND) && i + 1 < f->n)
		out |= f->v[i + 1].in;
	if (l->kind == K_JMP || l->kind == K_COND)
		out |= live_at(f, l->target);
	return out;
}

/* Backwards, until nothing changes: in = use | (out & ~def). */
static void solve(struct fn *f)
{
	regset anywhere = 0;
	bool changed = true;

	while (changed) {
		changed = false;
		for (size_t i = f->n; i-- > 0;) {
			struct li *l = &f->v[i];
			regset in = l->use | (live_out(f, i, anywhere) & ~l->def);

			if (in != l->in) {
				l->in = in;
				anywhere |= in;
				changed = true;
			}
		}
	}
}

static int analyse(struct ctx *c, const struct symtab_entry *e, regset ret_use, int depth,
		   struct fn *f)
{
	int r = decode(c, e, ret_use, depth, f);

	if (r == 0)
		solve(f);
	return r;
}

int regslive_after_calls(const struct clobber_image *img, const struct symtab_entry *fn,
			 uint64_t callee, regset after_return, regset *ret, bool *ret_wide)
{
	struct ctx c = {.img = img};
	struct fn f = {0};
	regset live = 0;
	int r;

	r = disasm_open(&c.d);
	if (r < 0)
		return r;
	r = analyse(&c, fn, after_return, ARGS_DEPTH, &f);
	/* After a call, what the code after it reads; after a tail jump, what
	 * this function's return hands back and its callers keep. */
	for (size_t i = 0; r == 0 && i < f.n; i++)
		if (f.v[i].to == callee)
			live |= f.v[i].call ? live_out(&f, i, 0) : after_return;
	disasm_close(&c.d);
	free(f.v);
	*ret = live;
	*ret_wide = f.wide;
	return r;
}
