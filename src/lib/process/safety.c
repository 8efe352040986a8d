/* SPDX-License-Identifier: MIT */
#include "safety.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <limits.h>
#include <string.h>
#include <sys/uio.h>

#include "arch.h"
#include "error.h"
#include "macro.h"
#include "procfs.h"
#include "threads.h"
#include "unwind.h"

#define STACK_SCAN_MAX (1u << 20)
#define FRAMES_MAX 512

static int cmp_range(const void *a, const void *b)
{
	const struct range *x = a, *y = b;

	return (x->lo > y->lo) - (x->lo < y->lo);
}

void safety_init(struct safety *s, pid_t pid, int memfd, const struct proc_maps *maps,
		 struct range *forbid, size_t nforbid)
{
	*s = (struct safety){.pid = pid, .memfd = memfd, .maps = maps, .forbid = forbid,
			     .nforbid = nforbid, .emulate = !proc_shadow_stack(pid)};
	if (nforbid)
		qsort(forbid, nforbid, sizeof(*forbid), cmp_range);
}

void safety_free(struct safety *s)
{
	unwinder_free(s->unw);
	free(s->forbid);
	free(s->buf);
	*s = (struct safety){0};
}

const struct range *range_find(const struct range *v, size_t n, uint64_t addr)
{
	size_t lo = 0, hi = n;

	if (!n || addr < v[0].lo)
		return NULL;
	/* Ranges may overlap only in pathological bundles; a binary search on
	 * lo followed by a short backward walk covers that. */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (v[mid].lo <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (size_t i = lo; i-- > 0;)
		if (addr >= v[i].lo && addr < v[i].hi)
			return &v[i];
	return NULL;
}

/* The live part of each stopped thread's stack: SP to the end of the mapping
 * that holds it (capped). len 0: not located, which counts as a hit. */
struct stack_view {
	uint64_t sp;
	size_t len;
	size_t off; /* into s->buf */
};

static size_t locate_stacks(struct safety *s, const struct threads *ts, struct stack_view *v)
{
	size_t total = 0;

	for (size_t i = 0; i < ts->n; i++) {
		const struct thread *t = &ts->v[i];
		const struct map_entry *e;

		v[i] = (struct stack_view){0};
		if (!t->stopped || t->gone)
			continue;
		v[i].sp = arch_sp(&t->regs) & ~7ULL;
		e = proc_maps_find(s->maps, v[i].sp);
		if (!e)
			continue;
		v[i].len = (size_t)MIN(e->end - v[i].sp, STACK_SCAN_MAX);
		v[i].off = total;
		total += v[i].len;
	}
	return total;
}

/* Every stack in as few system calls as possible: one process_vm_readv per
 * IOV_MAX threads. A stack that cannot be read this way is marked
 * unreadable (len 0) and gets the exact check. */
static int read_stacks(struct safety *s, struct stack_view *v, size_t n, size_t total)
{
	if (total > s->bufcap) {
		free(s->buf);
		s->buf = malloc(total);
		s->bufcap = s->buf ? total : 0;
		if (!s->buf)
			return -ENOMEM;
	}
	for (size_t i = 0; i < n;) {
		struct iovec local[IOV_MAX], remote[IOV_MAX];
		size_t k = 0, want = 0, first = i;

		for (; i < n && k < IOV_MAX; i++) {
			if (!v[i].len)
				continue;
			local[k] = (struct iovec){s->buf + v[i].off, v[i].len};
			remote[k++] = (struct iovec){(void *)v[i].sp, v[i].len};
			want += v[i].len;
		}
		if (k && process_vm_readv(s->pid, local, k, remote, k, 0) != (ssize_t)want)
			for (size_t j = first; j < i; j++)
				if (v[j].len &&
				    proc_mem_read(s->memfd, v[j].sp, s->buf + v[j].off, v[j].len) < 0)
					v[j].len = 0;
	}
	hp_err_clear();
	return 0;
}

/* Does this stack hold a word pointing into a forbidden range? Every return
 * address of every frame is such a word (arm64: once its pointer
 * authentication code is taken off, arch_code_addr()). */
static bool stack_hit(const struct safety *s, const struct stack_view *v)
{
	uint64_t lo = s->forbid[0].lo, hi = 0;

	if (!v->len)
		return true;
	for (size_t i = 0; i < s->nforbid; i++)
		hi = MAX(hi, s->forbid[i].hi);
	for (size_t off = 0; off + 8 <= v->len; off += 8) {
		uint64_t w;

		memcpy(&w, s->buf + v->off + off, 8);
		w = arch_code_addr(w);
		if (w >= lo && w < hi && range_find(s->forbid, s->nforbid, w))
			return true;
	}
	return false;
}

/* arm64: a function's return address is in x30 until its prologue saves
 * it, so a caller may be on no stack yet; the exact check decides. */
static bool link_hit(const struct safety *s, const struct thread *t)
{
	uint64_t lr;

	return arch_link_reg(&t->regs, &lr) && range_find(s->forbid, s->nforbid, lr);
}

/* Why @t keeps @name from being switched: sleeping inside it (stopped in
 * a system call made from it) is told apart from running in it, or having
 * it lower on the stack (a loop that never returns). The words "sleeping"
 * and "on its stack" are what flip_run() bases its advice on. */
static void in_the_way(const struct thread *t, const char *name, int frame, char *why,
		       size_t len)
{
	long nr = arch_syscall_nr(&t->regs);

	if (nr >= 0)
		snprintf(why, len, "thread %d is sleeping inside %s (in system call %ld%s)", t->tid,
			 name, nr, frame ? ", further up its stack" : "");
	else if (frame)
		snprintf(why, len, "thread %d has %s on its stack (frame #%d)", t->tid, name, frame);
	else
		snprintf(why, len, "thread %d is executing %s", t->tid, name);
}

static int precise(struct safety *s, const struct thread *t, char *why, size_t len)
{
	uint64_t pcs[FRAMES_MAX];
	bool complete;
	int n, r;

	if (!s->unw) {
		r = unwinder_new(s->pid, s->memfd, &s->unw);
		if (r < 0)
			return r;
	}
	s->unwinds++;
	n = unwinder_frames(s->unw, t->tid, &t->regs, pcs, FRAMES_MAX, &complete);
	for (int i = 0; i < n; i++) {
		const struct range *hit = range_find(s->forbid, s->nforbid, pcs[i]);

		if (hit) {
			in_the_way(t, hit->name, i, why, len);
			return 1;
		}
	}
	if (!complete) {
		snprintf(why, len,
			 "thread %d may be inside a function being changed (its stack cannot be "
			 "fully unwound)",
			 t->tid);
		return 1;
	}
	return 0;
}

int safety_check(struct safety *s, const struct threads *ts, char *why, size_t len)
{
	struct stack_view *v;
	int r = 0;

	if (!s->nforbid)
		return 0;
	/* PCs first: the cheapest test, and the most likely to fail. */
	for (size_t i = 0; i < ts->n; i++) {
		const struct thread *t = &ts->v[i];
		const struct range *hit;

		if (!t->stopped || t->gone)
			continue;
		hit = range_find(s->forbid, s->nforbid, arch_pc(&t->regs));
		if (hit) {
			in_the_way(t, hit->name, 0, why, len);
			return 1;
		}
	}
	v = calloc(ts->n ? ts->n : 1, sizeof(*v));
	if (!v)
		return hp_err(-ENOMEM, "out of memory");
	r = read_stacks(s, v, ts->n, locate_stacks(s, ts, v));
	for (size_t i = 0; r == 0 && i < ts->n; i++)
		if (ts->v[i].stopped && !ts->v[i].gone &&
		    (stack_hit(s, &v[i]) || link_hit(s, &ts->v[i])))
			r = precise(s, &ts->v[i], why, len);
	free(v);
	return r == -ENOMEM ? hp_err(r, "out of memory") : r;
}
