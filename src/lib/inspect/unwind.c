/* SPDX-License-Identifier: MIT */
#include "unwind.h"

#include <elfutils/libdwfl.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "arch.h"
#include "error.h"
#include "procfs.h"

/* Enough for either platform's DWARF registers (arch_dwarf_regs()). */
#define UNWIND_REGS_MAX 32

struct unwinder {
	Dwfl *dwfl;
	pid_t pid;
	int memfd;
	/* The one thread being unwound. */
	pid_t tid;
	const struct user_regs_struct *regs;
};

struct frames {
	uint64_t *pcs;
	size_t max;
	size_t n;
};

static pid_t cb_next_thread(Dwfl *dwfl, void *arg, void **thread_argp)
{
	(void)dwfl;
	(void)arg;
	(void)thread_argp;
	return 0; /* we only ever ask for one thread, through get_thread */
}

static bool cb_get_thread(Dwfl *dwfl, pid_t tid, void *arg, void **thread_argp)
{
	struct unwinder *u = arg;

	(void)dwfl;
	*thread_argp = u;
	return tid == u->tid;
}

static bool cb_memory_read(Dwfl *dwfl, Dwarf_Addr addr, Dwarf_Word *result, void *arg)
{
	struct unwinder *u = arg;
	uint64_t v;

	(void)dwfl;
	if (pread(u->memfd, &v, sizeof(v), (off_t)addr) != sizeof(v))
		return false;
	*result = v;
	return true;
}

static bool cb_set_initial_registers(Dwfl_Thread *thread, void *thread_arg)
{
	const struct user_regs_struct *r = ((struct unwinder *)thread_arg)->regs;
	uint64_t regs[UNWIND_REGS_MAX], pc;
	size_t n = arch_dwarf_regs(r, regs, UNWIND_REGS_MAX, &pc);
	Dwarf_Word dregs[UNWIND_REGS_MAX];

	for (size_t i = 0; i < n; i++)
		dregs[i] = regs[i];
	if (!dwfl_thread_state_registers(thread, 0, n, dregs))
		return false;
	dwfl_thread_state_register_pc(thread, pc);
	return true;
}

static const Dwfl_Thread_Callbacks thread_callbacks = {
	.next_thread = cb_next_thread,
	.get_thread = cb_get_thread,
	.memory_read = cb_memory_read,
	.set_initial_registers = cb_set_initial_registers,
};

static char *debuginfo_path;

static const Dwfl_Callbacks proc_callbacks = {
	.find_elf = dwfl_linux_proc_find_elf,
	.find_debuginfo = dwfl_standard_find_debuginfo,
	.debuginfo_path = &debuginfo_path,
};

int unwinder_new(pid_t pid, int memfd, struct unwinder **ret)
{
	struct unwinder *u = calloc(1, sizeof(*u));
	int r;

	if (!u)
		return hp_err(-ENOMEM, "out of memory");
	u->pid = pid;
	u->memfd = memfd;
	u->dwfl = dwfl_begin(&proc_callbacks);
	if (!u->dwfl) {
		free(u);
		return hp_err(-ENOMEM, "libdwfl: %s", dwfl_errmsg(-1));
	}
	dwfl_report_begin(u->dwfl);
	r = dwfl_linux_proc_report(u->dwfl, pid);
	dwfl_report_end(u->dwfl, NULL, NULL);
	if (r != 0 || !dwfl_attach_state(u->dwfl, NULL, pid, &thread_callbacks, u)) {
		unwinder_free(u);
		return hp_err(-EIO, "cannot prepare to unwind process %d: %s", pid,
			      r > 0 ? strerror(r) : dwfl_errmsg(-1));
	}
	*ret = u;
	return 0;
}

struct unwinder *unwinder_free(struct unwinder *u)
{
	if (!u)
		return NULL;
	if (u->dwfl)
		dwfl_end(u->dwfl);
	free(u);
	return NULL;
}

static int frame_cb(Dwfl_Frame *state, void *arg)
{
	struct frames *f = arg;
	Dwarf_Addr pc;
	bool activation;

	if (!dwfl_frame_pc(state, &pc, &activation))
		return DWARF_CB_ABORT;
	if (f->n == f->max)
		return DWARF_CB_ABORT;
	pc = arch_code_addr(pc); /* arm64: libdwfl may leave a return address signed */
	f->pcs[f->n++] = activation ? pc : pc - 1;
	return DWARF_CB_OK;
}

int unwinder_frames(struct unwinder *u, pid_t tid, const struct user_regs_struct *regs,
		    uint64_t *pcs, size_t max, bool *ret_complete)
{
	struct frames f = {.pcs = pcs, .max = max};

	u->tid = tid;
	u->regs = regs;
	/* 0 means every frame was walked; an unwind that stops early (no CFI
	 * for some frame) still reports the frames it found. */
	*ret_complete = dwfl_getthread_frames(u->dwfl, tid, frame_cb, &f) == 0;
	return (int)f.n;
}
