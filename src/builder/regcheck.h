/* SPDX-License-Identifier: MIT */
/*
 * Replacements written as patch sources must keep the register promise their
 * originals made to their callers.
 *
 * GCC at -O2 turns on -fipa-ra: when it has compiled a callee, a caller in
 * the same file may keep a value in a caller-saved register across the call
 * if the callee leaves that register alone. A replacement compiled apart
 * follows only the ABI, so it may change such a register, and the caller
 * then computes a wrong result with no crash to show for it. The builder
 * refuses a replacement that may change a caller-saved register the original
 * leaves alone while a function the patch does not replace calls the
 * original directly (calls through the PLT or a pointer follow the ABI and
 * rely on nothing more). Replacing those callers in the same patch makes it
 * safe, as their replacements are checked in turn.
 *
 * Diff builds need no such check: their replacement and the target's callers
 * come from one compiler run of the fixed source, and a caller that relied
 * on the old register set is different code in the fixed build, so it is
 * carried too.
 */
#pragma once

#include <stddef.h>

struct elf_file;
struct manifest;
struct symtab;
struct thunk;

struct regcheck {
	struct elf_file *target;
	const struct symtab *syms; /* the target's */
	struct elf_file *obj;      /* the linked patch object */
	const char *obj_path;
	const struct manifest *man;
	struct thunk *thunks; /* out: the replacements to wrap (malloc'ed) */
	size_t nthunks;
};

int regcheck_replacements(struct regcheck *rc);
