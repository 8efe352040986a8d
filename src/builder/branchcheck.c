/* SPDX-License-Identifier: MIT */
#include "branchcheck.h"

#include <inttypes.h>

#include "disasm.h"
#include "error.h"
#include "manifest.h"

static int check_insn(const char *name, const cs_insn *insn, uint64_t lo, uint64_t hi)
{
	const cs_x86 *x = &insn->detail->x86;

	if (!disasm_is_branch(insn))
		return 0;
	for (uint8_t i = 0; i < x->op_count; i++) {
		uint64_t target;

		if (x->operands[i].type != X86_OP_IMM)
			continue;
		target = (uint64_t)x->operands[i].imm;
		if (target > lo && target < hi)
			return hp_err(-EINVAL,
				      "%s: the instruction at 0x%" PRIx64 " branches to 0x%" PRIx64
				      ", inside the %d bytes the redirecting jump overwrites; such a "
				      "function cannot be redirected safely: patch its callers instead",
				      name, insn->address, target, JUMP_SIZE);
	}
	return 0;
}

int branchcheck_window(const char *name, const uint8_t *code, size_t size, uint64_t vaddr,
		       uint32_t patch_off)
{
	uint64_t lo = vaddr + patch_off, hi = lo + JUMP_SIZE;
	const uint8_t *p = code;
	uint64_t addr = vaddr;
	struct disasm d;
	int r;

	hp_err_clear();
	r = disasm_open(&d);
	if (r < 0)
		return r;
	while (r == 0 && size && cs_disasm_iter(d.cs, &p, &size, &addr, d.insn))
		r = check_insn(name, d.insn, lo, hi);
	disasm_close(&d);
	return r;
}

static bool is_padding(const cs_insn *insn)
{
	return insn->id == X86_INS_NOP || insn->id == X86_INS_INT3;
}

int branchcheck_padding(const uint8_t *code, size_t size, uint64_t vaddr, size_t need)
{
	const uint8_t *p = code;
	uint64_t addr = vaddr;
	size_t left = size;
	struct disasm d;
	int r;

	r = disasm_open(&d);
	if (r < 0)
		return r;
	r = -ENOENT;
	/* Every byte the jump would cover must be alignment filler, and only
	 * whole filler instructions count. */
	while (left && cs_disasm_iter(d.cs, &p, &left, &addr, d.insn) && is_padding(d.insn))
		if ((size_t)(p - code) >= need) {
			r = 0;
			break;
		}
	disasm_close(&d);
	return r;
}
