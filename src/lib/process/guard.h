/* SPDX-License-Identifier: MIT */
/*
 * The guard of a borrowed thread: whatever instant the tool dies at during a
 * remote system call, the thread's next user instructions lead back to its
 * own state.
 *
 * The danger: while a call runs, the thread holds the tool's registers (rip
 * at a `syscall` instruction, the call's number and arguments). The kernel
 * detaches a dead tracer's threads and lets them run, so a tool killed then
 * would leave the thread running on after that `syscall` with registers
 * that are not its own (seen: a crash in the vDSO, one kill in ten on a
 * loaded host).
 *
 * The guard: each call is made at a `syscall` instruction followed only by
 * register-clearing instructions, pops and a `ret` (the vDSO's fallbacks
 * are such), with the thread's stack pointer set so that the `ret` takes the
 * first word of a signal frame written below the thread's stack, beyond the
 * red zone, where the kernel itself would write one: the address of an
 * rt_sigreturn (`mov $15, %eax; syscall`, the C library's __restore_rt).
 * The frame holds the thread's own registers, signal mask and floating-point
 * and vector state. Left alone, the thread finishes the call, returns into
 * rt_sigreturn, and the kernel loads its own state back. A system call it
 * was interrupted in is restarted by the frame (rip back on the `syscall`,
 * rax the call's number), as the kernel does when no handler runs; a call
 * the kernel would have continued where it left off (ERESTART_RESTARTBLOCK:
 * nanosleep, poll with a timeout) starts again with its whole timeout, and
 * one already being continued (restart_syscall) is started again only when
 * its number can be read from the code before its `syscall`.
 *
 * While the tool lives none of this runs: it puts the registers back itself,
 * with the kernel's exact restart logic (remote.h), after the last call, or
 * after each call when the frame would not resume the thread exactly (a call
 * the kernel would continue); between two calls the thread then waits in its
 * syscall-exit stop, where a tool killed leaves it to the frame as during a
 * call. The frame is dead memory below the stack pointer once the thread has
 * its registers back.
 *
 * Not armed (the call is made unguarded, as before) when no such
 * instructions are mapped, when the stack has no room below the red zone,
 * under a CET shadow stack (rt_sigreturn would want a token the kernel did
 * not push), or when the thread's seccomp filter would not allow
 * rt_sigreturn.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/user.h>

struct proc_maps;

struct guard {
	uint64_t syscall_at;   /* a `syscall` whose epilogue only pops and returns */
	unsigned pops;         /* words that epilogue pops before its `ret` */
	uint64_t sigreturn_at; /* `mov $15, %eax; syscall` */
	uint64_t frame;        /* the frame's first word, the `ret`'s target */
	bool armed;
};

/* Finds the two instruction sequences in the process. 0 or -ENOENT. */
int guard_find(int memfd, const struct proc_maps *maps, struct guard *g);
/* Writes the frame for thread @tid, whose own registers are @own, below its
 * stack. 0 when armed; a negative errno (and g->armed false) otherwise. */
int guard_arm(struct guard *g, pid_t tid, int memfd, const struct proc_maps *maps,
	      const struct user_regs_struct *own);
/* Points a call's registers at the guarded `syscall`, its stack at the frame. */
void guard_call_regs(const struct guard *g, struct user_regs_struct *regs);
/* Can the frame resume a thread whose own registers are @own exactly? Not
 * one continuing a call (restart_syscall) whose number is not in the code
 * before its `syscall`: it would see one EINTR. */
bool guard_resumable(int memfd, const struct user_regs_struct *own);
/* The registers the frame resumes with: @own, with an interrupted system
 * call set to start again (reading the code before it through @memfd). */
void guard_resume_regs(int memfd, const struct user_regs_struct *own,
		       struct user_regs_struct *ret);
