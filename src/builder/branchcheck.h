/* SPDX-License-Identifier: MIT */
#pragma once

#include <stddef.h>
#include <stdint.h>

/*
 * The jump that redirects a function overwrites JUMP_SIZE bytes at its entry
 * (after endbr64). If any instruction of the function branches into the middle
 * of those bytes (a loop back to just after the entry, say), it would land
 * inside the jump's displacement. Disassemble the function with capstone and
 * refuse that case with a reason.
 */
int branchcheck_window(const char *name, const uint8_t *code, size_t size, uint64_t vaddr,
		       uint32_t patch_off);

/*
 * A function shorter than the jump can still be redirected when the bytes
 * after it, up to the next symbol, are alignment filler (nop, int3) that no
 * code reaches: the jump then covers the function and part of the filler.
 * 0 when the first @need bytes of @code (the @size bytes after the function,
 * at @vaddr) are whole filler instructions, -ENOENT when not.
 */
int branchcheck_padding(const uint8_t *code, size_t size, uint64_t vaddr, size_t need);
