/* SPDX-License-Identifier: MIT */
/*
 * Which caller-saved registers a function may still need after a call
 * returns: a liveness analysis of its machine code, over its branches, from
 * capstone's register reads and writes.
 *
 * Every guess goes towards "live", so that a register reported dead really
 * is: a write to part of a register does not end its value; a call ends only
 * the values of registers its callee certainly changes (clobber.h's lower
 * set, which the caller's compiler also assumed changed); it reads the
 * argument registers its callee reads (followed a few calls deep, else all
 * of them); a jump through a register or memory may go to any instruction of
 * the function (a switch table) or out of it (a tail call); a return needs
 * what the caller says its own callers may read.
 */
#pragma once

#include <stdbool.h>

#include "clobber.h"

struct symtab_entry;

/* rax rdx xmm0 xmm1: what a return may hand back. */
#define REGSLIVE_RESULT (UINT64_C(0x5) | (UINT64_C(0x3) << 9))

/* The registers @fn of @img may read after a call or jump to @callee
 * before writing them, over all such places in @fn; @after_return: what
 * the code @fn returns to may read (at least REGSLIVE_RESULT; more when its
 * own callers keep values across it). *@ret_wide: whether @fn uses 256- or
 * 512-bit vector registers at all (their upper halves are not in a
 * regset). */
int regslive_after_calls(const struct clobber_image *img, const struct symtab_entry *fn,
			 uint64_t callee, regset after_return, regset *ret, bool *ret_wide);
