/* SPDX-License-Identifier: MIT */
/*
 * arm64 has no guard yet (guard.h; guard.c is x86-64's): guard_find() finds
 * nothing, so remote.c makes its calls unguarded, as it does on x86-64 when
 * a process has no suitable code. Unguarded, a tool killed during a remote
 * call leaves the borrowed thread with the call's registers; the kernel's
 * detach lets it run on from the `svc` with them (docs/design.md, "Two
 * platforms"). The arm64 form would be the same idea: a frame below the
 * stack that rt_sigreturn (the vDSO's __kernel_rt_sigreturn) reads back, an
 * `svc #0` followed by a return into it, and a frame with the fpsimd record
 * the arm64 kernel requires.
 */
#include "guard.h"

#include <errno.h>

int guard_find(int memfd, const struct proc_maps *maps, struct guard *g)
{
	(void)memfd;
	(void)maps;
	*g = (struct guard){0};
	return -ENOENT;
}

int guard_arm(struct guard *g, pid_t tid, int memfd, const struct proc_maps *maps,
	      const struct user_regs_struct *own)
{
	(void)tid;
	(void)memfd;
	(void)maps;
	(void)own;
	g->armed = false;
	return -ENOTSUP;
}

void guard_call_regs(const struct guard *g, struct user_regs_struct *regs)
{
	(void)g;
	(void)regs;
}

bool guard_resumable(int memfd, const struct user_regs_struct *own)
{
	(void)memfd;
	(void)own;
	return true;
}

void guard_resume_regs(int memfd, const struct user_regs_struct *own,
		       struct user_regs_struct *ret)
{
	(void)memfd;
	*ret = *own;
}
