/* SPDX-License-Identifier: MIT */
/*
 * Which caller-saved registers a function of a linked file may change.
 *
 * GCC at -O2 (-fipa-ra) lets a caller keep a value in a caller-saved
 * register across a call when it knows the callee leaves that register
 * alone. A replacement compiled apart does not keep that promise, so the
 * builder compares what the original and its replacement may change
 * (regcheck.c). The analysis follows direct calls and jumps into other
 * functions of the same file; any other call or jump out (through the PLT,
 * a pointer, or to an address no symbol covers) may change every
 * caller-saved register, as the ABI allows.
 */
#pragma once

#include <capstone/capstone.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct elf_file;
struct symtab;

/* Bit i: rax rcx rdx rsi rdi r8 r9 r10 r11 (0..8), xmm0..xmm31 (9..40, their
 * ymm and zmm forms too), the x87/MMX stack (41). The callee-saved registers
 * are not here: every function restores them. */
typedef uint64_t regset;
#define REGSET_ABI ((UINT64_C(1) << 42) - 1)

struct clobber_image {
	struct elf_file *elf;
	const struct symtab *syms;
};

/*
 * CLOBBER_UPPER: every register of REGSET_ABI that the function at @vaddr,
 * @size bytes long, and everything it reaches may change (for a
 * replacement: anything unclear counts as changed).
 * CLOBBER_LOWER: registers that the compiler of a caller certainly counted
 * as changed by it (for the original: a jump through a register is taken for
 * a switch table, not a tail call). A replacement is safe for callers that
 * relied on the original's set when its upper set is within the original's
 * lower set.
 */
enum clobber_bound { CLOBBER_LOWER, CLOBBER_UPPER };
int clobber_set(const struct clobber_image *img, uint64_t vaddr, uint64_t size,
		enum clobber_bound bound, regset *ret);

/* The registers of REGSET_ABI that @insn writes (with @whole_only, only
 * those it replaces whole), and into *@reads (if given) those it reads. */
regset clobber_writes(csh cs, const cs_insn *insn, bool whole_only, regset *reads);

/* "%rdi, %xmm0" into @buf. */
void regset_format(regset s, char *buf, size_t len);
