/* SPDX-License-Identifier: MIT */
/*
 * Applying a bundle to one process. The phases, and what holds after each:
 *   1. prepare  -> the process maps the target build (build-id), we may trace
 *                  it, and its memory is open
 *   2. verify   -> every function's bytes equal the expected ones in the file
 *                  and in memory (a jump of an earlier hotpatch at the entry
 *                  is accepted: the patch stacks on top)
 *   3. plan     -> the jumps to write, the bytes each one must find, and the
 *                  code no thread may be in, are computed
 *   4. load     -> the patch object is mapped and relocated, not yet active
 *   5. flip     -> all threads stopped, checked, jumps written, released
 *   6. tidy     -> with --replace, superseded objects are unmapped
 * A failure before 5 unloads what 4 loaded; 5 itself is all or nothing.
 */
#include "engine.h"

#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "arch.h"
#include "bundle.h"
#include "clock.h"
#include "debug.h"
#include "elffile.h"
#include "fault.h"
#include "hex.h"
#include "linkmap.h"
#include "loader.h"
#include "macro.h"
#include "module.h"
#include "patches.h"
#include "pidlock.h"
#include "procfs.h"
#include "remote.h"
#include "safety.h"
#include "session.h"

#define CHAIN_MAX 64

struct apply {
	struct session s; /* first: the session's steps get a struct apply */
	const struct bundle *b;
	const struct manifest *m;
	struct proc_module mod;
	struct loaded_patch *mine; /* this bundle, already loaded (a rerun) */
	struct record rec;
	uint8_t (*cur)[JUMP_SIZE];         /* current bytes at each jump site */
	struct range *forbid;
	size_t nforbid;
	struct loaded_object obj;
	bool fresh;
};

const char *outcome_name(enum outcome o)
{
	static const char *const names[] = {
		[OUTCOME_PATCHED] = "patched",   [OUTCOME_ALREADY] = "already",
		[OUTCOME_SKIPPED] = "skipped",   [OUTCOME_REVERTED] = "reverted",
		[OUTCOME_FAILED] = "failed",
	};

	return names[o];
}

static uint64_t jump_site(const struct apply *a, size_t i)
{
	return a->mod.bias + a->m->funcs[i].vaddr + a->m->funcs[i].patch_off;
}

static int prepare(struct apply *a)
{
	char hex[2 * HP_BUILD_ID_MAX + 1];
	int r;

	r = session_open(&a->s);
	if (r < 0)
		return r;
	r = module_find(a->s.pid, &a->s.maps, a->m->build_id, a->m->build_id_len, &a->mod);
	if (r < 0) {
		hex_encode(a->m->build_id, a->m->build_id_len, hex);
		a->s.rep->outcome = OUTCOME_SKIPPED;
		return hp_err(-ENOENT, "does not map %s with build-id %s", a->m->target_path, hex);
	}
	return 0;
}

/* The file the process maps must hold the expected bytes too: a build-id
 * can be forged, the bytes of every function we replace cannot. */
static int verify_file(struct apply *a)
{
	struct elf_file *ef;
	int fd, r = 0;

	fd = module_open(a->s.pid, &a->mod);
	if (fd < 0)
		return fd;
	r = elf_file_open_fd(fd, a->mod.path, &ef);
	if (r < 0)
		return r;
	for (size_t i = 0; r == 0 && i < a->m->nfuncs; i++) {
		const struct manifest_func *f = &a->m->funcs[i];
		uint8_t *buf = malloc(f->size);

		if (!buf)
			r = hp_err(-ENOMEM, "out of memory");
		else if (elf_file_read_vaddr(ef, f->vaddr, buf, f->size) < 0 ||
			 memcmp(buf, f->expected, f->size) != 0)
			r = hp_err(-EBADMSG, "%s: the bytes of %s in the file differ from the build "
					     "the patch was made for; rebuild the patch for this file",
				   a->mod.path, f->name);
		free(buf);
	}
	elf_file_close(ef);
	return r;
}

/* The bytes under a stack of hotpatch jumps at @addr: follow each patch's
 * record down to bytes that are no hotpatch jump. */
static void chain_bottom(const struct apply *a, uint64_t addr, const uint8_t cur[JUMP_SIZE],
			 uint8_t out[JUMP_SIZE])
{
	memcpy(out, cur, JUMP_SIZE);
	for (int depth = 0; depth < CHAIN_MAX; depth++) {
		bool found = false;

		for (size_t p = 0; p < a->s.nloaded && !found; p++) {
			const struct loaded_patch *lp = &a->s.loaded[p];

			for (size_t j = 0; lp->rec_valid && j < lp->rec.n && !found; j++) {
				uint8_t jmp[JUMP_SIZE];

				if (lp->rec.e[j].addr != addr ||
				    arch_jump_encode(addr, lp->rec.e[j].new_addr, jmp) < 0 ||
				    memcmp(jmp, out, JUMP_SIZE) != 0)
					continue;
				memcpy(out, lp->rec.e[j].prev, JUMP_SIZE);
				found = true;
			}
		}
		if (!found)
			return;
	}
}

static int verify_memory(struct apply *a, size_t i)
{
	const struct manifest_func *f = &a->m->funcs[i];
	uint64_t start = a->mod.bias + f->vaddr;
	uint8_t *buf = malloc(f->size), bottom[JUMP_SIZE];
	int r;

	if (!buf)
		return hp_err(-ENOMEM, "out of memory");
	r = proc_mem_read(a->s.memfd, start, buf, f->size);
	if (r == 0) {
		memcpy(a->cur[i], buf + f->patch_off, JUMP_SIZE);
		chain_bottom(a, start + f->patch_off, a->cur[i], bottom);
		memcpy(buf + f->patch_off, bottom, JUMP_SIZE);
		if (memcmp(buf, f->expected, f->size) != 0)
			r = hp_err(-EBADMSG, "the code of %s in memory differs from the expected "
					     "bytes (changed by someone else?); nothing was written",
				   f->name);
	}
	free(buf);
	return r;
}

static int add_forbid(struct apply *a, uint64_t lo, uint64_t hi, const char *name)
{
	struct range *nv = realloc(a->forbid, (a->nforbid + 1) * sizeof(*nv));

	if (!nv)
		return hp_err(-ENOMEM, "out of memory");
	a->forbid = nv;
	nv[a->nforbid++] = (struct range){.lo = lo, .hi = hi, .name = name};
	return 0;
}

static bool superseded(const struct apply *a, const struct loaded_patch *lp)
{
	if (!a->s.o->replace || lp == a->mine || !lp->rec_valid)
		return false;
	for (size_t j = 0; j < lp->rec.n; j++)
		if (lp->rec.e[j].addr >= a->mod.lo && lp->rec.e[j].addr < a->mod.hi)
			return true;
	return false;
}

/* What may not be running during the flip: the functions being replaced,
 * the patch code now serving them (stacking), and with --replace every
 * superseded patch. */
static int plan_forbid(struct apply *a)
{
	for (size_t i = 0; i < a->m->nfuncs; i++) {
		const struct manifest_func *f = &a->m->funcs[i];
		const struct loaded_patch *owner;
		uint64_t start = a->mod.bias + f->vaddr;
		int r;

		/* A thread exactly at the entry or at the jump site has not
		 * started the old code yet: it will take the jump. */
		r = add_forbid(a, jump_site(a, i) + 1, start + f->size, f->name);
		if (r < 0)
			return r;
		owner = patches_owner(a->s.loaded, a->s.nloaded, jump_site(a, i), NULL);
		if (owner && owner != a->mine) {
			r = add_forbid(a, owner->text_lo, owner->text_hi, "the patch below this one");
			if (r < 0)
				return r;
		}
	}
	for (size_t p = 0; p < a->s.nloaded; p++)
		if (superseded(a, &a->s.loaded[p])) {
			int r = add_forbid(a, a->s.loaded[p].text_lo, a->s.loaded[p].text_hi,
					   "a superseded patch");

			if (r < 0)
				return r;
		}
	return 0;
}

static int plan_record(struct apply *a)
{
	a->rec.n = a->m->nfuncs;
	a->rec.e = calloc(a->rec.n, sizeof(*a->rec.e));
	if (!a->rec.e)
		return hp_err(-ENOMEM, "out of memory");
	memcpy(a->rec.bundle_sha, a->b->sha256, 32);
	a->rec.module_bias = a->mod.bias;
	for (size_t i = 0; i < a->rec.n; i++) {
		a->rec.e[i].addr = jump_site(a, i);
		a->rec.e[i].len = JUMP_SIZE;
		/* Stacked: revert falls back to the patch below. Replacing:
		 * revert goes straight back to the original. */
		if (a->s.o->replace)
			chain_bottom(a, a->rec.e[i].addr, a->cur[i], a->rec.e[i].prev);
		else
			memcpy(a->rec.e[i].prev, a->cur[i], JUMP_SIZE);
	}
	return 0;
}

static bool covered(const struct apply *a, uint64_t addr)
{
	for (size_t i = 0; i < a->m->nfuncs; i++)
		if (jump_site(a, i) == addr)
			return true;
	return false;
}

/* --replace: superseded jumps this bundle does not cover go back to the
 * original bytes in the same flip, so the old objects can be unmapped. */
static int plan_restores(struct apply *a)
{
	for (size_t p = 0; p < a->s.nloaded; p++) {
		const struct loaded_patch *lp = &a->s.loaded[p];

		if (!superseded(a, lp))
			continue;
		for (size_t j = 0; j < lp->rec.n; j++) {
			uint8_t cur[JUMP_SIZE], orig[JUMP_SIZE];
			int r;

			if (!lp->active[j] || covered(a, lp->rec.e[j].addr))
				continue;
			r = proc_mem_read(a->s.memfd, lp->rec.e[j].addr, cur, JUMP_SIZE);
			if (r < 0)
				return r;
			chain_bottom(a, lp->rec.e[j].addr, cur, orig);
			r = session_add_write(&a->s, lp->rec.e[j].addr, orig, cur);
			if (r < 0)
				return r;
		}
	}
	return 0;
}

static bool stacked_on_mine(const struct apply *a, uint64_t addr)
{
	for (size_t j = 0; a->mine && a->mine->stacked && j < a->mine->rec.n; j++)
		if (a->mine->stacked[j] && a->mine->rec.e[j].addr == addr)
			return true;
	return false;
}

static int plan_jumps(struct apply *a)
{
	for (size_t i = 0; i < a->m->nfuncs; i++) {
		uint8_t jmp[JUMP_SIZE];
		uint64_t dest = a->obj.base + a->m->funcs[i].new_vaddr;

		if (arch_jump_encode(jump_site(a, i), dest, jmp) < 0)
			return hp_err(-ERANGE, "the patch for %s landed out of jump range",
				      a->m->funcs[i].name);
		if (memcmp(a->cur[i], jmp, JUMP_SIZE) == 0)
			continue; /* a rerun after an interrupted apply */
		if (stacked_on_mine(a, jump_site(a, i)))
			continue; /* a newer patch is on top of ours there: keep it */
		int r = session_add_write(&a->s, jump_site(a, i), jmp, a->cur[i]);

		if (r < 0)
			return r;
	}
	return plan_restores(a);
}

static int find_mine(struct apply *a)
{
	int r = session_scan(&a->s);

	if (r < 0)
		return r;
	a->mine = patches_find(a->s.loaded, a->s.nloaded, a->b->id);
	/* Applied, possibly with newer patches stacked on some functions. */
	if (a->mine && patches_applied(a->mine) && a->mine->rec.n == a->m->nfuncs) {
		a->s.rep->outcome = OUTCOME_ALREADY;
		return 1;
	}
	return 0;
}

static int with_remote(struct apply *a, bool load, uint64_t base, uint64_t size)
{
	struct loader_target t = {.pid = a->s.pid, .memfd = a->s.memfd, .maps = &a->s.maps,
				  .mod = &a->mod, .object_fd = -1};
	struct remote rm;
	int r;

	/* Loading counts against the operation's deadline; unloading (a
	 * leftover, or cleaning up after a failure) gets its own. */
	r = remote_attach(&rm, a->s.pid, a->s.memfd, &a->s.maps,
			  load ? a->s.deadline_ns : now_ns() + a->s.o->timeout_ns);
	if (r < 0)
		return r;
	fault_point("apply-seized");
	if (!load) {
		r = loader_unload(&rm, base, size);
		goto out;
	}
	t.object_fd = open(a->s.o->object_path, O_RDONLY | O_CLOEXEC);
	if (t.object_fd < 0) {
		r = hp_err(-errno, "cannot open %s: %m", a->s.o->object_path);
		goto out;
	}
	r = linkmap_open(a->s.pid, a->s.memfd, &a->s.maps, &t.lm);
	if (r == 0)
		r = loader_load(&rm, &t, a->b, &a->rec, &a->obj);
	linkmap_free(t.lm);
	close(t.object_fd);
out:
	if (remote_detach(&rm) < 0 && r == 0)
		r = hp_err(-ESRCH, "process %d exited during the operation", a->s.pid);
	return r;
}

/* A leftover of an interrupted run: reuse it when its record is complete,
 * otherwise remove it and load afresh. */
static int load(struct apply *a)
{
	int r;

	if (a->mine && a->mine->rec_valid && a->mine->rec.n == a->m->nfuncs) {
		a->obj = (struct loaded_object){.base = a->mine->base, .size = a->mine->size,
					       .text_lo = a->mine->text_lo,
					       .text_hi = a->mine->text_hi};
		return 0;
	}
	if (a->mine) {
		r = with_remote(a, false, a->mine->base, a->mine->size);
		if (r < 0)
			return r;
	}
	r = with_remote(a, true, 0, 0);
	if (r == 0) {
		a->fresh = true;
		fault_point("load-done");
	}
	return r;
}

static int flip(struct apply *a)
{
	return session_flip(&a->s, TAKE_PTR(a->forbid), a->nforbid);
}

static void tidy_superseded(struct apply *a)
{
	for (size_t p = 0; p < a->s.nloaded; p++)
		if (superseded(a, &a->s.loaded[p])) {
			if (with_remote(a, false, a->s.loaded[p].base, a->s.loaded[p].size) == 0)
				a->s.rep->superseded++;
			hp_err_clear();
		}
}

/* Runs one phase and traces it (HOTPATCH_DEBUG=1). */
static int phase(struct apply *a, const char *name, int (*fn)(struct apply *))
{
	int64_t t0 = now_ns();
	int r = fn(a);

	session_trace(&a->s, name, r, t0);
	return r;
}

static int verify_memory_all(struct apply *a)
{
	int r = 0;

	a->cur = calloc(a->m->nfuncs, sizeof(*a->cur));
	if (!a->cur)
		return hp_err(-ENOMEM, "out of memory");
	for (size_t i = 0; r == 0 && i < a->m->nfuncs; i++)
		r = verify_memory(a, i);
	return r;
}

static int run(struct apply *a)
{
	int r;

	r = phase(a, "prepare", prepare);
	if (r == 0)
		r = phase(a, "verify file", verify_file);
	if (r == 0)
		r = phase(a, "scan", find_mine);
	if (r != 0)
		return r > 0 ? 0 : r;
	r = phase(a, "verify memory", verify_memory_all);
	if (r == 0)
		r = plan_record(a);
	if (r == 0)
		r = plan_forbid(a);
	if (r == 0)
		r = phase(a, "load", load);
	if (r == 0)
		r = plan_jumps(a);
	if (r == 0)
		r = phase(a, "flip", flip);
	if (r < 0) {
		if (a->fresh && r != -ESRCH) {
			int saved = r;
			char msg[HP_ERR_MAX];

			snprintf(msg, sizeof(msg), "%s", hp_err_msg(r));
			with_remote(a, false, a->obj.base, a->obj.size);
			r = hp_err(saved, "%s", msg);
		}
		return r;
	}
	fault_point("apply-done");
	tidy_superseded(a);
	a->s.rep->outcome = OUTCOME_PATCHED;
	return 0;
}

/* Without the lock: does the process map the target build at all? Under
 * --all most processes do not, and they must not queue behind a lock. */
static int precheck(const struct apply *a)
{
	struct proc_maps maps = {0};
	struct proc_module mod;
	int r = proc_maps_read(a->s.pid, &maps);

	if (r == 0) {
		r = module_find(a->s.pid, &maps, a->m->build_id, a->m->build_id_len, &mod);
		if (r < 0) {
			char hex[2 * HP_BUILD_ID_MAX + 1];

			hex_encode(a->m->build_id, a->m->build_id_len, hex);
			a->s.rep->outcome = OUTCOME_SKIPPED;
			r = hp_err(-ENOENT, "does not map %s with build-id %s", a->m->target_path, hex);
		}
	} else if (a->s.o->skip_uninspectable) {
		a->s.rep->outcome = OUTCOME_SKIPPED;
	}
	proc_maps_free(&maps);
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

void engine_apply(const struct bundle *b, pid_t pid, const struct engine_opts *o,
		  struct engine_report *rep)
{
	static const struct session_steps steps = {.what = "apply", .start_fault = "apply-start",
						   .precheck = precheck_step, .run = run_step};
	struct apply a = {.s = {.pid = pid, .o = o, .rep = rep}, .b = b, .m = &b->manifest};

	*rep = (struct engine_report){.outcome = OUTCOME_FAILED,
				      .nfuncs = (unsigned)b->manifest.nfuncs};
	session_run(&a.s, &steps, &a);
	record_free(&a.rec);
	free(a.cur);
	free(a.forbid);
}
