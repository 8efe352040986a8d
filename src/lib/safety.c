/* SPDX-License-Identifier: MIT */
#include "safety.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
			     .nforbid = nforbid};
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

/* Does the live stack of @t hold a word pointing into a forbidden range?
 * -ENOENT when the stack cannot be located (treat as a hit). */
static int stack_scan(struct safety *s, const struct thread *t)
{
	uint64_t sp = t->regs.rsp & ~7ULL, lo = s->forbid[0].lo, hi = 0;
	const struct map_entry *e = proc_maps_find(s->maps, sp);
	size_t len;

	if (!e)
		return -ENOENT;
	len = (size_t)MIN(e->end - sp, STACK_SCAN_MAX);
	if (len > s->bufcap) {
		free(s->buf);
		s->buf = malloc(len);
		s->bufcap = s->buf ? len : 0;
		if (!s->buf)
			return -ENOMEM;
	}
	if (proc_mem_read(s->memfd, sp, s->buf, len) < 0) {
		hp_err_clear();
		return -ENOENT;
	}
	for (size_t i = 0; i < s->nforbid; i++)
		hi = MAX(hi, s->forbid[i].hi);
	for (size_t off = 0; off + 8 <= len; off += 8) {
		uint64_t w;

		memcpy(&w, s->buf + off, 8);
		if (w >= lo && w < hi && range_find(s->forbid, s->nforbid, w))
			return 1;
	}
	return 0;
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
			snprintf(why, len, "thread %d has %s on its stack (frame #%d)", t->tid,
				 hit->name, i);
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

static int check_thread(struct safety *s, const struct thread *t, char *why, size_t len)
{
	const struct range *hit = range_find(s->forbid, s->nforbid, t->regs.rip);
	int r;

	if (hit) {
		snprintf(why, len, "thread %d is executing %s", t->tid, hit->name);
		return 1;
	}
	r = stack_scan(s, t);
	if (r == 0)
		return 0;
	if (r < 0 && r != -ENOENT)
		return hp_err(r, "out of memory");
	return precise(s, t, why, len);
}

int safety_check(struct safety *s, const struct threads *ts, char *why, size_t len)
{
	if (!s->nforbid)
		return 0;
	for (size_t i = 0; i < ts->n; i++) {
		const struct thread *t = &ts->v[i];
		int r;

		if (!t->stopped || t->gone)
			continue;
		r = check_thread(s, t, why, len);
		if (r != 0)
			return r;
	}
	return 0;
}
