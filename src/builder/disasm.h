/* SPDX-License-Identifier: MIT */
/*
 * capstone for the builder's x86-64 code checks: one handle with operand
 * details, and the questions every check asks of an instruction.
 */
#pragma once

#include <capstone/capstone.h>
#include <stdbool.h>
#include <stdint.h>

struct disasm {
	csh cs;
	cs_insn *insn;
};

int disasm_open(struct disasm *d);
void disasm_close(struct disasm *d);

bool disasm_in_group(const cs_insn *insn, uint8_t group);
bool disasm_is_branch(const cs_insn *insn); /* a call or a jump */
/* A call or jump to one address given in the instruction: true and it. */
bool disasm_direct_target(const cs_insn *insn, uint64_t *ret);

/* The bit of a caller-saved register in clobber.h's regset, or -1. */
int disasm_reg_bit(unsigned reg);
/* Does writing @reg replace the whole register (a 64- or 32-bit GPR)? */
bool disasm_reg_whole(unsigned reg);
