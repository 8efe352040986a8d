/* SPDX-License-Identifier: MIT */
/*
 * Telling a function that only moved in its file from one that changed.
 *
 * __LINE__ (assert(), logging macros, expat's accounting calls) compiles to
 * an immediate operand. A fix that adds lines above a function therefore
 * changes that function's bytes without changing what it does, and every
 * such function would be replaced for nothing: a bigger patch, and more
 * functions that must not be running when the patch is applied. kpatch
 * knows the kernel's own line-number macros; we look at the instructions.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct diff_info;

/* Are code @a and @b (@len bytes each) the same instructions, except for
 * immediates that are line numbers the diff moved (old in @a, new in @b)?
 * False when they differ in anything else, or cannot be decoded. */
bool linemove_only(const uint8_t *a, const uint8_t *b, size_t len, const struct diff_info *d);
