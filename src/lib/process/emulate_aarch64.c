/* SPDX-License-Identifier: MIT */
/*
 * arm64 emulates nothing yet (emulate.h; emulate.c is x86-64's): a thread
 * on a function's epilogue is moved out by letting it run briefly, as any
 * other thread inside a function being changed is.
 */
#include "emulate.h"

int emulate_simple_insn(int memfd, struct user_regs_struct *regs)
{
	(void)memfd;
	(void)regs;
	return 0;
}
