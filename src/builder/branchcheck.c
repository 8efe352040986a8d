/* SPDX-License-Identifier: MIT */
#include "branchcheck.h"

#include <capstone/capstone.h>
#include <inttypes.h>

#include "error.h"
#include "manifest.h"

static bool is_branch(const cs_insn *insn)
{
	const cs_detail *d = insn->detail;

	for (uint8_t i = 0; i < d->groups_count; i++)
		if (d->groups[i] == CS_GRP_JUMP || d->groups[i] == CS_GRP_CALL)
			return true;
	return false;
}

static int check_insn(const char *name, const cs_insn *insn, uint64_t lo, uint64_t hi)
{
	const cs_x86 *x = &insn->detail->x86;

	if (!is_branch(insn))
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
	cs_insn *insn;
	csh cs;
	int r = 0;

	hp_err_clear();
	if (cs_open(CS_ARCH_X86, CS_MODE_64, &cs) != CS_ERR_OK)
		return hp_err_prefix(-ENOTSUP, "capstone cannot disassemble x86-64: ");
	cs_option(cs, CS_OPT_DETAIL, CS_OPT_ON);
	insn = cs_malloc(cs);
	if (!insn) {
		cs_close(&cs);
		return hp_err(-ENOMEM, "out of memory");
	}
	while (r == 0 && size && cs_disasm_iter(cs, &p, &size, &addr, insn))
		r = check_insn(name, insn, lo, hi);
	cs_free(insn, 1);
	cs_close(&cs);
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
	cs_insn *insn;
	csh cs;
	int r = -ENOENT;

	if (cs_open(CS_ARCH_X86, CS_MODE_64, &cs) != CS_ERR_OK)
		return hp_err_prefix(-ENOTSUP, "capstone cannot disassemble x86-64: ");
	insn = cs_malloc(cs);
	if (!insn) {
		cs_close(&cs);
		return hp_err(-ENOMEM, "out of memory");
	}
	/* Every byte the jump would cover must be alignment filler, and only
	 * whole filler instructions count. */
	while (left && cs_disasm_iter(cs, &p, &left, &addr, insn) && is_padding(insn))
		if ((size_t)(p - code) >= need) {
			r = 0;
			break;
		}
	cs_free(insn, 1);
	cs_close(&cs);
	return r;
}
