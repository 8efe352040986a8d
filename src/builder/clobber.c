/* SPDX-License-Identifier: MIT */
#include "clobber.h"

#include <elf.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "disasm.h"
#include "elffile.h"
#include "error.h"
#include "symtab.h"

#define BIT_X87 41

static const char *const names[] = {"rax", "rcx", "rdx", "rsi", "rdi", "r8", "r9", "r10", "r11"};

static size_t name_reg(char *buf, size_t len, int i)
{
	if (i < 9)
		return (size_t)snprintf(buf, len, "%%%s", names[i]);
	if (i < BIT_X87)
		return (size_t)snprintf(buf, len, "%%xmm%d", i - 9);
	return (size_t)snprintf(buf, len, "the x87 stack");
}

static bool has(regset s, int i)
{
	return i <= BIT_X87 && (s & (UINT64_C(1) << i));
}

/* Runs of neighbours as ranges: "%r8-%r11, %xmm0-%xmm15". */
void regset_format(regset s, char *buf, size_t len)
{
	size_t n = 0;

	buf[0] = '\0';
	for (int i = 0; i <= BIT_X87 && n < len; i++) {
		int last = i;

		if (!has(s, i))
			continue;
		/* a run stays within the GPRs or within the vector registers */
		while (has(s, last + 1) && (last + 1 < 9) == (i < 9) && last + 1 < BIT_X87)
			last++;
		if (n)
			n += (size_t)snprintf(buf + n, len - n, ", ");
		if (n < len)
			n += name_reg(buf + n, len - n, i);
		if (last > i + 1 && n < len) {
			n += (size_t)snprintf(buf + n, len - n, "-");
			if (n < len)
				n += name_reg(buf + n, len - n, last);
			i = last;
		}
	}
}

regset clobber_writes(csh cs, const cs_insn *insn, bool whole_only, regset *reads)
{
	cs_regs rd, wr;
	uint8_t nrd = 0, nwr = 0;
	regset set = 0;

	if (cs_regs_access(cs, insn, rd, &nrd, wr, &nwr) != CS_ERR_OK) {
		if (reads)
			*reads = REGSET_ABI;
		return whole_only ? 0 : REGSET_ABI; /* cannot tell: assume the worst */
	}
	for (uint8_t i = 0; i < nwr; i++) {
		int bit = disasm_reg_bit(wr[i]);

		if (bit >= 0 && (!whole_only || disasm_reg_whole(wr[i])))
			set |= UINT64_C(1) << bit;
	}
	for (uint8_t i = 0; reads && i < nrd; i++) {
		int bit = disasm_reg_bit(rd[i]);

		if (bit >= 0)
			*reads |= UINT64_C(1) << bit;
	}
	return set;
}

struct walk {
	const struct clobber_image *img;
	struct disasm d;
	uint64_t *todo; /* function starts: visited ones, then those to visit */
	size_t ntodo, cap;
	regset set;
};

static int push(struct walk *w, uint64_t start)
{
	uint64_t *nv;

	for (size_t i = 0; i < w->ntodo; i++)
		if (w->todo[i] == start)
			return 0;
	if (w->ntodo == w->cap) {
		w->cap = w->cap ? 2 * w->cap : 16;
		nv = realloc(w->todo, w->cap * sizeof(*nv));
		if (!nv)
			return hp_err(-ENOMEM, "out of memory");
		w->todo = nv;
	}
	w->todo[w->ntodo++] = start;
	return 0;
}

/* A call or jump leaving the function [lo, hi): follow it into another
 * function of the file, or count every register when it goes anywhere
 * else. A jump through a register or memory stays in the function for a
 * lower bound (a switch table: GCC's own set for the function does not grow,
 * and counting it would let a larger replacement through); an upper bound
 * cannot tell that from a tail call through a pointer. */
static int follow(struct walk *w, const cs_insn *insn, uint64_t lo, uint64_t hi, bool lower)
{
	const struct symtab_entry *e;
	uint64_t to;

	if (!disasm_is_branch(insn))
		return 0;
	if (!disasm_direct_target(insn, &to)) {
		if (disasm_in_group(insn, CS_GRP_CALL) || !lower)
			w->set = REGSET_ABI;
		return 0;
	}
	if (to >= lo && to < hi)
		return 0;
	e = symtab_func_at(w->img->syms, to);
	if (!e) {
		w->set = REGSET_ABI; /* the PLT, or code no symbol names */
		return 0;
	}
	return push(w, e->value);
}

static int walk_one(struct walk *w, uint64_t vaddr, uint64_t size, bool lower)
{
	uint8_t *code = malloc(size ? size : 1);
	const uint8_t *p = code;
	uint64_t addr = vaddr;
	size_t left = size;
	int r;

	if (!code)
		return hp_err(-ENOMEM, "out of memory");
	r = elf_file_read_vaddr(w->img->elf, vaddr, code, size);
	while (r == 0 && left && w->set != REGSET_ABI &&
	       cs_disasm_iter(w->d.cs, &p, &left, &addr, w->d.insn)) {
		w->set |= clobber_writes(w->d.cs, w->d.insn, false, NULL);
		r = follow(w, w->d.insn, vaddr, vaddr + size, lower);
	}
	/* Bytes capstone cannot decode: an upper bound must assume the worst. */
	if (r == 0 && left && !lower)
		w->set = REGSET_ABI;
	free(code);
	return r;
}

int clobber_set(const struct clobber_image *img, uint64_t vaddr, uint64_t size,
		enum clobber_bound bound, regset *ret)
{
	struct walk w = {.img = img};
	int r;

	r = disasm_open(&w.d);
	if (r < 0)
		return r;
	r = push(&w, vaddr);
	/* The first function by its given size (a replacement's symbol), the
	 * ones it reaches by their symbols. */
	if (r == 0)
		r = walk_one(&w, vaddr, size, bound == CLOBBER_LOWER);
	for (size_t next = 1; r == 0 && next < w.ntodo && w.set != REGSET_ABI; next++) {
		const struct symtab_entry *e = symtab_func_at(img->syms, w.todo[next]);

		r = walk_one(&w, e->value, e->size, bound == CLOBBER_LOWER);
	}
	if (r == 0)
		*ret = w.set;
	disasm_close(&w.d);
	free(w.todo);
	return r;
}
