/* SPDX-License-Identifier: MIT */
#include "thunk.h"

#include <errno.h>
#include <stdio.h>

#include "error.h"
#include "manifest.h"

static const char *const gprs[] = {"rax", "rcx", "rdx", "rsi", "rdi", "r8", "r9", "r10", "r11"};

static void emit_one(FILE *f, size_t i, const char *target, regset save)
{
	int pushed = 0, nx = 0, room;

	fprintf(f, "\t.globl " THUNK_PREFIX "%zu\n\t.hidden " THUNK_PREFIX "%zu\n"
		   "\t.type " THUNK_PREFIX "%zu, @function\n" THUNK_PREFIX "%zu:\n"
		   "\t.cfi_startproc\n\tendbr64\n",
		i, i, i, i);
	for (int r = 0; r < 9; r++)
		if (save & (UINT64_C(1) << r)) {
			fprintf(f, "\tpushq %%%s\n\t.cfi_adjust_cfa_offset 8\n", gprs[r]);
			pushed++;
		}
	for (int x = 0; x < 16; x++)
		nx += !!(save & (UINT64_C(1) << (9 + x)));
	/* The call needs %rsp 16-byte aligned: it was 8 past that at entry. */
	room = 16 * nx + (pushed % 2 == 0 ? 8 : 0);
	fprintf(f, "\tsubq $%d, %%rsp\n\t.cfi_adjust_cfa_offset %d\n", room, room);
	for (int x = 0, k = 0; x < 16; x++)
		if (save & (UINT64_C(1) << (9 + x)))
			fprintf(f, "\tmovdqu %%xmm%d, %d(%%rsp)\n", x, 16 * k++);
	fprintf(f, "\tcall %s\n", target);
	for (int x = 0, k = 0; x < 16; x++)
		if (save & (UINT64_C(1) << (9 + x)))
			fprintf(f, "\tmovdqu %d(%%rsp), %%xmm%d\n", 16 * k++, x);
	fprintf(f, "\taddq $%d, %%rsp\n\t.cfi_adjust_cfa_offset %d\n", room, -room);
	for (int r = 8; r >= 0; r--)
		if (save & (UINT64_C(1) << r))
			fprintf(f, "\tpopq %%%s\n\t.cfi_adjust_cfa_offset -8\n", gprs[r]);
	fprintf(f, "\tret\n\t.cfi_endproc\n\t.size " THUNK_PREFIX "%zu, .-" THUNK_PREFIX "%zu\n\n",
		i, i);
}

int thunk_write(const char *path, const struct thunk *t, size_t n, const struct manifest *man)
{
	FILE *f = fopen(path, "we");

	if (!f)
		return hp_err(-errno, "cannot create %s: %m", path);
	fprintf(f, "/* hotpatch: registers kept for the callers (thunk.h) */\n\t.text\n");
	for (size_t i = 0; i < n; i++)
		emit_one(f, i, man->funcs[t[i].func].new_name, t[i].save);
	fprintf(f, "\t.section .note.GNU-stack,\"\",@progbits\n");
	if (fclose(f) != 0)
		return hp_err(-EIO, "cannot write %s", path);
	return 0;
}
