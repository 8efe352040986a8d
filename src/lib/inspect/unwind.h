/* SPDX-License-Identifier: MIT */
/*
 * Unwinding a stopped thread's stack from outside the process, with libdwfl
 * and the modules' own CFI (.eh_frame, or .debug_frame from debuginfo). The
 * thread's registers come from our ptrace stop and its memory from
 * /proc/PID/mem, so unwinding needs no ptrace attach of its own.
 *
 * Patch objects are mapped from real ELF files with their .eh_frame, so frames
 * inside patch code unwind like any other (libcare's anonymous copies could
 * not: their issue #36).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/user.h>

struct unwinder;

/* Reports the process's modules (reads /proc/PID/maps); CFI is read lazily. */
int unwinder_new(pid_t pid, int memfd, struct unwinder **ret);
struct unwinder *unwinder_free(struct unwinder *u);
/* Frame PCs of thread @tid, innermost first. For frames above the first, the
 * PC is the return address minus one (inside the calling instruction).
 * Returns the number of frames (capped at @max); @ret_complete says whether
 * the unwind reached the outermost frame (false: CFI missing somewhere). */
int unwinder_frames(struct unwinder *u, pid_t tid, const struct user_regs_struct *regs,
		    uint64_t *pcs, size_t max, bool *ret_complete);
