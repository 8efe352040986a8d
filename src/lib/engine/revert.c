/* SPDX-License-Identifier: MIT */
/*
 * Reverting a patch in one process: the flip backwards. Needs no bundle: the
 * record in the process says where each jump is and what it replaced.
 *   1. find the patch object and its record in the process
 *   2. check each jump site: our jump (restore it), already restored (skip),
 *      another hotpatch's jump stacked on ours (refuse: revert that first), or
 *      anything else (refuse: someone else changed the code; never overwrite
 *      foreign bytes)
 *   3. flip, with the patch's own code forbidden: no thread may be running
 *      it or return into it
 *   4. unmap the object
 */
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#define PAGE_SIZE_BYTES 4096

#include "arch.h"
#include "clock.h"
#include "engine.h"
#include "fault.h"
#include "loader.h"
#include "macro.h"
#include "patches.h"
#include "pidlock.h"
#include "procfs.h"
#include "remote.h"
#include "safety.h"
#include "session.h"

struct revert {
	struct session s;
	const char *id;
	struct loaded_patch *mine;
};

static int find(struct revert *v)
{
	int r = session_open(&v->s);

	if (r == 0)
		r = session_scan(&v->s);
	if (r < 0)
		return r;
	v->mine = patches_find(v->s.loaded, v->s.nloaded, v->id);
	if (!v->mine) {
		v->s.rep->outcome = OUTCOME_SKIPPED;
		return hp_err(-ENOENT, "patch %s is not applied", v->id);
	}
	if (v->mine->rec_valid)
		v->s.rep->nfuncs = (unsigned)v->mine->rec.n;
	return 0;
}

static int stacked_error(struct revert *v, uint64_t addr, const uint8_t cur[JUMP_SIZE])
{
	for (size_t p = 0; p < v->s.nloaded; p++) {
		const struct loaded_patch *lp = &v->s.loaded[p];

		for (size_t j = 0; lp != v->mine && lp->rec_valid && j < lp->rec.n; j++) {
			uint8_t jmp[JUMP_SIZE];

			if (lp->rec.e[j].addr == addr &&
			    arch_jump_encode(addr, lp->rec.e[j].new_addr, jmp) == 0 &&
			    memcmp(jmp, cur, JUMP_SIZE) == 0)
				return hp_err(-EBUSY, "patch %s is applied on top of %s; revert it "
						      "first",
					      lp->id, v->mine->id);
		}
	}
	return hp_err(-EBADMSG, "the code at 0x%" PRIx64 " was changed by someone else after "
				"patch %s was applied; refusing to overwrite foreign bytes",
		      addr, v->mine->id);
}

static int plan(struct revert *v)
{
	const struct record *rec = &v->mine->rec;

	for (size_t j = 0; j < rec->n; j++) {
		const struct record_entry *e = &rec->e[j];
		uint8_t cur[JUMP_SIZE], jmp[JUMP_SIZE];
		int r;

		r = proc_mem_read(v->s.memfd, e->addr, cur, JUMP_SIZE);
		if (r < 0)
			return r;
		if (memcmp(cur, e->prev, JUMP_SIZE) == 0)
			continue; /* never flipped, or an interrupted revert */
		if (arch_jump_encode(e->addr, e->new_addr, jmp) < 0 || memcmp(cur, jmp, JUMP_SIZE) != 0)
			return stacked_error(v, e->addr, cur);
		r = session_add_write(&v->s, e->addr, e->prev, cur);
		if (r < 0)
			return r;
	}
	return 0;
}

static int flip(struct revert *v)
{
	struct range *forbid;

	if (!v->s.nw)
		return 0;
	forbid = calloc(1, sizeof(*forbid));
	if (!forbid)
		return hp_err(-ENOMEM, "out of memory");
	*forbid = (struct range){.lo = v->mine->text_lo, .hi = v->mine->text_hi,
				 .name = "the patch's code"};
	return session_flip(&v->s, forbid, 1);
}

/* Is the page at @addr in memory the same as in the file it maps? */
static bool page_matches_file(struct revert *v, uint64_t addr)
{
	const struct map_entry *e = proc_maps_find(&v->s.maps, addr);
	uint8_t mem[PAGE_SIZE_BYTES], file[PAGE_SIZE_BYTES];
	char path[128];
	bool same = false;
	int fd;

	if (!e || !e->path || e->path[0] != '/' || e->shared)
		return false;
	proc_map_files_path(v->s.pid, e, path, sizeof(path));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	if (pread(fd, file, sizeof(file), (off_t)(e->offset + (addr - e->start))) ==
		    (ssize_t)sizeof(file) &&
	    proc_mem_read(v->s.memfd, addr, mem, sizeof(mem)) == 0)
		same = memcmp(mem, file, sizeof(mem)) == 0;
	close(fd);
	hp_err_clear();
	return same;
}

/* Writing the jumps made private copies of code pages. Once the original
 * bytes are back, a page equal to its file is dropped, so the process shares
 * the page cache again: revert gives back the memory too. */
static void share_pages_again(struct revert *v, struct remote *rm)
{
	const struct record *rec = &v->mine->rec;

	for (size_t j = 0; j < rec->n; j++) {
		uint64_t page = rec->e[j].addr & ~(uint64_t)(PAGE_SIZE_BYTES - 1);
		bool seen = false;
		long ret;

		for (size_t k = 0; k < j && !seen; k++)
			seen = (rec->e[k].addr & ~(uint64_t)(PAGE_SIZE_BYTES - 1)) == page;
		if (!seen && page_matches_file(v, page))
			remote_syscall(rm, SYS_madvise, (long)page, PAGE_SIZE_BYTES, MADV_DONTNEED, 0,
				       0, 0, &ret);
	}
	hp_err_clear();
}

static int unload(struct revert *v)
{
	struct remote rm;
	int r;

	r = remote_attach(&rm, v->s.pid, v->s.memfd, &v->s.maps, now_ns() + v->s.o->timeout_ns);
	if (r < 0)
		return r;
	fault_point("revert-seized");
	r = loader_unload(&rm, v->mine->base, v->mine->size);
	if (r == 0 && v->mine->rec_valid)
		share_pages_again(v, &rm);
	if (remote_detach(&rm) < 0 && r == 0)
		r = hp_err(-ESRCH, "process %d exited during the operation", v->s.pid);
	return r;
}

static int run(struct revert *v)
{
	int r;

	r = find(v);
	if (r == 0 && v->mine->rec_valid)
		r = plan(v);
	if (r == 0)
		r = flip(v);
	if (r < 0)
		return r;
	fault_point("revert-flipped");
	r = unload(v);
	if (r < 0)
		return r;
	fault_point("revert-done");
	v->s.rep->outcome = OUTCOME_REVERTED;
	return 0;
}

/* Without the lock: is the patch mapped in this process at all? */
static int precheck(struct revert *v)
{
	struct proc_maps maps = {0};
	bool mapped = false;
	int r = proc_maps_read(v->s.pid, &maps);

	for (size_t i = 0; r == 0 && i < maps.n && !mapped; i++) {
		char got[BUNDLE_ID_LEN + 1];

		mapped = patches_is_object_path(maps.v[i].path, got) &&
			 strncmp(got, v->id, strlen(v->id)) == 0;
	}
	proc_maps_free(&maps);
	if (r < 0 && v->s.o->skip_uninspectable)
		v->s.rep->outcome = OUTCOME_SKIPPED;
	if (r == 0 && !mapped) {
		v->s.rep->outcome = OUTCOME_SKIPPED;
		r = hp_err(-ENOENT, "patch %s is not applied", v->id);
	}
	return r;
}

static int run_step(void *op)
{
	return run(op);
}

static int precheck_step(void *op)
{
	return precheck(op);
}

void engine_revert(const char *id, pid_t pid, const struct engine_opts *o,
		   struct engine_report *rep)
{
	static const struct session_steps steps = {.what = "revert", .start_fault = "revert-start",
						   .precheck = precheck_step, .run = run_step};
	struct revert v = {.s = {.pid = pid, .o = o, .rep = rep}, .id = id};

	*rep = (struct engine_report){.outcome = OUTCOME_FAILED};
	session_run(&v.s, &steps, &v);
}
