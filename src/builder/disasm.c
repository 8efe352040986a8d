/* SPDX-License-Identifier: MIT */
#include "disasm.h"

#include "error.h"
#include "macro.h"

int disasm_open(struct disasm *d)
{
	/* A missing libcapstone has said so (capstone_lazy.c): keep that. */
	if (cs_open(CS_ARCH_X86, CS_MODE_64, &d->cs) != CS_ERR_OK)
		return hp_err_prefix(-ENOTSUP, "capstone cannot disassemble x86-64: ");
	cs_option(d->cs, CS_OPT_DETAIL, CS_OPT_ON);
	d->insn = cs_malloc(d->cs);
	if (!d->insn) {
		cs_close(&d->cs);
		return hp_err(-ENOMEM, "out of memory");
	}
	return 0;
}

void disasm_close(struct disasm *d)
{
	cs_free(d->insn, 1);
	cs_close(&d->cs);
}

bool disasm_in_group(const cs_insn *insn, uint8_t group)
{
	for (uint8_t i = 0; i < insn->detail->groups_count; i++)
		if (insn->detail->groups[i] == group)
			return true;
	return false;
}

bool disasm_is_branch(const cs_insn *insn)
{
	return disasm_in_group(insn, CS_GRP_CALL) || disasm_in_group(insn, CS_GRP_JUMP);
}

bool disasm_direct_target(const cs_insn *insn, uint64_t *ret)
{
	const cs_x86 *x = &insn->detail->x86;

	if (!disasm_is_branch(insn) || x->op_count != 1 || x->operands[0].type != X86_OP_IMM)
		return false;
	*ret = (uint64_t)x->operands[0].imm;
	return true;
}

/* rax rcx rdx rsi rdi r8 r9 r10 r11, each in its 64-, 32-, 16- and 8-bit
 * names; the first two are whole. */
static const x86_reg gprs[][5] = {
	{X86_REG_RAX, X86_REG_EAX, X86_REG_AX, X86_REG_AL, X86_REG_AH},
	{X86_REG_RCX, X86_REG_ECX, X86_REG_CX, X86_REG_CL, X86_REG_CH},
	{X86_REG_RDX, X86_REG_EDX, X86_REG_DX, X86_REG_DL, X86_REG_DH},
	{X86_REG_RSI, X86_REG_ESI, X86_REG_SI, X86_REG_SIL, X86_REG_SIL},
	{X86_REG_RDI, X86_REG_EDI, X86_REG_DI, X86_REG_DIL, X86_REG_DIL},
	{X86_REG_R8, X86_REG_R8D, X86_REG_R8W, X86_REG_R8B, X86_REG_R8B},
	{X86_REG_R9, X86_REG_R9D, X86_REG_R9W, X86_REG_R9B, X86_REG_R9B},
	{X86_REG_R10, X86_REG_R10D, X86_REG_R10W, X86_REG_R10B, X86_REG_R10B},
	{X86_REG_R11, X86_REG_R11D, X86_REG_R11W, X86_REG_R11B, X86_REG_R11B},
};

int disasm_reg_bit(unsigned reg)
{
	if (reg >= X86_REG_XMM0 && reg <= X86_REG_XMM31)
		return 9 + (int)(reg - X86_REG_XMM0);
	if (reg >= X86_REG_YMM0 && reg <= X86_REG_YMM31)
		return 9 + (int)(reg - X86_REG_YMM0);
	if (reg >= X86_REG_ZMM0 && reg <= X86_REG_ZMM31)
		return 9 + (int)(reg - X86_REG_ZMM0);
	if ((reg >= X86_REG_ST0 && reg <= X86_REG_ST7) || (reg >= X86_REG_MM0 && reg <= X86_REG_MM7))
		return 41;
	for (size_t i = 0; i < ARRAY_SIZE(gprs); i++)
		for (size_t k = 0; k < ARRAY_SIZE(gprs[i]); k++)
			if (gprs[i][k] == reg)
				return (int)i;
	return -1;
}

bool disasm_reg_whole(unsigned reg)
{
	for (size_t i = 0; i < ARRAY_SIZE(gprs); i++)
		if (gprs[i][0] == reg || gprs[i][1] == reg)
			return true;
	return false;
}
