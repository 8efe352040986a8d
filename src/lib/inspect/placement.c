/* SPDX-License-Identifier: MIT */
#include "placement.h"

#include <errno.h>
#include <string.h>

#include "arch.h"
#include "error.h"
#include "macro.h"
#include "procfs.h"

#define PAGE 4096ULL
/* How far the redirecting jump reaches, less a page of margin. */
#define REACH (ARCH_JUMP_REACH - PAGE)
#define MIN_ADDR 0x10000ULL
#define USER_TOP ARCH_USER_TOP
/* Room left for brk() to grow the heap, and for the main stack. */
#define HEAP_ROOM (1ULL << 30)
#define STACK_ROOM (256ULL << 20)

struct window {
	uint64_t lo, hi; /* allowed [lo, hi) for the whole object */
};

static uint64_t round_up(uint64_t v)
{
	return (v + PAGE - 1) & ~(PAGE - 1);
}

static uint64_t round_down(uint64_t v)
{
	return v & ~(PAGE - 1);
}

/* Clip the gap [lo, hi) before map index @i to leave growth room. */
static void clip_gap(const struct proc_maps *m, size_t i, uint64_t *lo, uint64_t *hi)
{
	if (i > 0 && m->v[i - 1].path && strcmp(m->v[i - 1].path, "[heap]") == 0)
		*lo += HEAP_ROOM;
	if (i < m->n && m->v[i].path && strcmp(m->v[i].path, "[stack]") == 0)
		*hi = *hi > STACK_ROOM ? *hi - STACK_ROOM : 0;
	/* One free page on each side keeps us from merging with neighbours
	 * and leaves guard pages intact. */
	*lo = round_up(*lo) + PAGE;
	*hi = *hi > 2 * PAGE ? round_down(*hi) - PAGE : 0;
}

/* Best address in gap [lo, hi) for an object of @size within @w, scored by
 * distance to the module. */
static int fit(uint64_t lo, uint64_t hi, uint64_t size, const struct window *w,
	       uint64_t mod_lo, uint64_t *ret, uint64_t *ret_dist)
{
	uint64_t a, b, addr;

	a = MAX(lo, w->lo);
	b = MIN(hi, w->hi);
	if (b <= a || b - a < size)
		return -ENOSPC;
	/* Below the module: take the top of the gap; above: the bottom. */
	addr = b <= mod_lo ? round_down(b - size) : round_up(a);
	if (addr < a || addr + size > b)
		return -ENOSPC;
	*ret = addr;
	*ret_dist = addr < mod_lo ? mod_lo - addr : addr - mod_lo;
	return 0;
}

int placement_find(const struct proc_maps *maps, uint64_t mod_lo, uint64_t mod_hi, uint64_t size,
		   uint64_t *ret_addr)
{
	struct window w;
	uint64_t best = 0, best_dist = UINT64_MAX;

	if (mod_hi - mod_lo >= REACH)
		return hp_err(-ERANGE, "the target module spans more than %s; the redirecting jump "
				       "cannot reach a patch from all of it", ARCH_JUMP_REACH_TEXT);
	w.lo = mod_hi > REACH ? mod_hi - REACH : MIN_ADDR;
	w.hi = MIN(mod_lo + REACH, USER_TOP);
	for (size_t i = 0; i <= maps->n; i++) {
		uint64_t lo = i ? maps->v[i - 1].end : MIN_ADDR;
		uint64_t hi = i < maps->n ? MIN(maps->v[i].start, USER_TOP) : USER_TOP;
		uint64_t addr, dist;

		if (hi <= lo)
			continue;
		clip_gap(maps, i, &lo, &hi);
		if (hi > lo && fit(lo, hi, size, &w, mod_lo, &addr, &dist) == 0 &&
		    dist < best_dist) {
			best = addr;
			best_dist = dist;
		}
	}
	if (!best)
		return hp_err(-ENOSPC, "no free address range within %s of the target module "
				       "can hold the patch (%llu bytes)",
			      ARCH_JUMP_REACH_TEXT, (unsigned long long)size);
	*ret_addr = best;
	return 0;
}
