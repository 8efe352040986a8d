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
 * the return registers and every
 * register the function certainly leaves alone (its own callers may keep
 * values there, as -fipa-ra allows).
 */
#pragma once

#include <stdbool.h>

#include "clobber.h"

struct symtab_entry;

/* The registers @fn of @img may read after a call or jump to @callee
 * before writing them, over all such places in @fn; *@ret_wide: whether @fn
 * uses 256- or 512-bit vector registers at all (their upper halves are not
 * in a regset). */
int regslive_after_calls(const struct clobber_image *img, const struct symtab_entry *fn,
			 uint64_t callee, regset *ret, bool *ret_wide);
