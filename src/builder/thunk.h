/* SPDX-License-Identifier: MIT */
/*
 * A thunk between the redirecting jump and a replacement that would change
 * registers its original's callers keep values in (regcheck.h): it saves
 * them, calls the replacement, restores them and returns. Written in
 * assembly with its unwind information, compiled into the patch object.
 * Only for a replacement whose arguments all come in registers (a thunk's
 * own stack would move arguments passed on the stack).
 */
#pragma once

#include <stddef.h>

#include "clobber.h"

#define THUNK_PREFIX "__hotpatch_thunk_"

struct thunk {
	size_t func;  /* index in the manifest's functions */
	regset save;  /* general registers and %xmm0-%xmm15 only */
};

struct manifest;

/* Writes @n thunks as one assembly source at @path, thunk i named
 * THUNK_PREFIX "i" and calling the replacement of @man's function
 * @t[i].func. */
int thunk_write(const char *path, const struct thunk *t, size_t n, const struct manifest *man);
