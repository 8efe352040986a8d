/* SPDX-License-Identifier: MIT */
/*
 * Exact emulation, from outside, of the few instructions that end most
 * functions and touch nothing but registers and the thread's own stack
 * reads: ret, pop, leave, nop, endbr64.
 *
 * The flip moves a thread out of a function being changed by letting it run
 * (threads_run_briefly()); a thread stopped on its function's epilogue is
 * moved out at once instead, by setting its registers to what the
 * instructions would leave. Setting registers arms nothing: a tool killed
 * at any moment leaves the thread in a state it would have reached itself.
 * Not with a shadow stack (CET): a `ret` done here would leave it behind.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/user.h>

/* Emulates the instruction at regs->rip if it is one of the above, reading
 * the code and the stack through @memfd. Returns 1 when emulated (@regs
 * updated), 0 when the instruction is not one of them, or a negative errno
 * when memory could not be read. */
int emulate_simple_insn(int memfd, struct user_regs_struct *regs);
