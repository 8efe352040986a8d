/* SPDX-License-Identifier: MIT */
/* placement.c: every address it returns must be free, reachable by a rel32
 * jump from all of the module, as close to the module as possible, and out
 * of the way of the heap and the main stack. */
#include "placement.h"

#include <sys/mman.h>

#include "procfs.h"
#include "test.h"

#define PAGE 0x1000ULL
#define MIB (1ULL << 20)
#define GIB (1ULL << 30)
#define REACH (2 * GIB)
#define HEAP_ROOM GIB
#define STACK_ROOM (256 * MIB)

struct span {
	uint64_t start, end;
	const char *path;
};

/* A proc_maps over @v (sorted); map_entry.path points at the literals. */
static struct proc_maps maps_of(struct map_entry *out, const struct span *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		out[i] = (struct map_entry){.start = v[i].start, .end = v[i].end,
					    .prot = PROT_READ, .path = (char *)v[i].path};
	return (struct proc_maps){.v = out, .n = n};
}

/* The properties every placement must have, whatever the layout. */
static void assert_valid(const struct proc_maps *m, uint64_t mod_lo, uint64_t mod_hi,
			 uint64_t size, uint64_t addr)
{
	ASSERT_EQ(addr % PAGE, 0);
	/* A rel32 jump from anywhere in the module reaches all of the object. */
	ASSERT_TRUE(addr + size <= mod_lo + REACH);
	ASSERT_TRUE(mod_hi <= REACH || addr >= mod_hi - REACH);
	/* Free, with a free page on either side. */
	for (size_t i = 0; i < m->n; i++)
		ASSERT_TRUE(m->v[i].end < addr || m->v[i].start > addr + size);
}

/* A PIE executable, its heap close above it, libraries and stack far away,
 * and the vsyscall page above the user address space. */
static const struct span pie[] = {
	{0x555555554000, 0x555555580000, "/usr/bin/t"},
	{0x5555557a0000, 0x5555557c1000, "[heap]"},
	{0x7ffff7d00000, 0x7ffff7fff000, "/usr/lib/libc.so.6"},
	{0x7ffffffde000, 0x7ffffffff000, "[stack]"},
	{0xffffffffff600000, 0xffffffffff601000, "[vsyscall]"},
};

TEST(pie_takes_the_closest_gap)
{
	struct map_entry e[5];
	struct proc_maps m = maps_of(e, pie, 5);
	uint64_t addr = 0;

	ASSERT_OK(placement_find(&m, pie[0].start, pie[0].end, 0x10000, &addr));
	assert_valid(&m, pie[0].start, pie[0].end, 0x10000, addr);
	/* Right below the module, one guard page away: closer than the gap
	 * between the module and the heap, whose bottom is 0x2d000 away. */
	ASSERT_EQ(addr, pie[0].start - PAGE - 0x10000);
}

TEST(closest_gap_above_wins_over_far_gap_below)
{
	/* Below the module only a gap 1.5 GiB down; above, one 64 MiB up. */
	const uint64_t lo = 0x200000000, hi = lo + 0x100000;
	const struct span v[] = {
		{0x10000, lo - 3 * GIB / 2, "/fill-low"},
		{lo - 3 * GIB / 2 + 0x100000, lo, "/fill-below"},
		{lo, hi, "/mod"},
		{hi, hi + 64 * MIB, "/fill-above"},
	};
	struct map_entry e[4];
	struct proc_maps m = maps_of(e, v, 4);
	uint64_t addr = 0;

	ASSERT_OK(placement_find(&m, lo, hi, 0x10000, &addr));
	assert_valid(&m, lo, hi, 0x10000, addr);
	ASSERT_EQ(addr, hi + 64 * MIB + PAGE);
}

TEST(leaves_room_above_heap)
{
	/* The module is boxed in below and the heap follows it directly: the
	 * only space in reach is above the heap, minus the heap's growth room. */
	const uint64_t lo = 0x555555554000, hi = 0x555555580000, heap_end = hi + 0x21000;
	const struct span v[] = {
		{0x10000, lo, "/fill"},
		{lo, hi, "/usr/bin/t"},
		{hi, heap_end, "[heap]"},
	};
	struct map_entry e[3];
	struct proc_maps m = maps_of(e, v, 3);
	uint64_t addr = 0;

	ASSERT_OK(placement_find(&m, lo, hi, 0x10000, &addr));
	assert_valid(&m, lo, hi, 0x10000, addr);
	ASSERT_TRUE(addr >= heap_end + HEAP_ROOM);
	ASSERT_EQ(addr, heap_end + HEAP_ROOM + PAGE);
}

TEST(heap_room_can_leave_nothing)
{
	/* As above, but the space above the heap ends within its growth room. */
	const uint64_t lo = 0x555555554000, hi = 0x555555580000, heap_end = hi + 0x21000;
	const struct span v[] = {
		{0x10000, lo, "/fill"},
		{lo, hi, "/usr/bin/t"},
		{hi, heap_end, "[heap]"},
		{heap_end + HEAP_ROOM / 2, 0x7ffffffff000, "/fill-high"},
	};
	struct map_entry e[4];
	struct proc_maps m = maps_of(e, v, 4);
	uint64_t addr = 0;

	ASSERT_ERR(placement_find(&m, lo, hi, 0x10000, &addr), -ENOSPC);
	ASSERT_EQ(addr, 0); /* untouched */
}

TEST(leaves_room_below_stack)
{
	/* A module above the stack (synthetic), so that the gap below the stack
	 * is below the module and would be filled from its top. */
	const uint64_t st_lo = 0x7ff000000000, st_hi = st_lo + 0x21000;
	const uint64_t lo = st_hi + GIB / 2, hi = lo + 0x100000;
	const struct span v[] = {
		{0x10000, st_lo - GIB, "/fill-low"},
		{st_lo, st_hi, "[stack]"},
		{st_hi, lo, "/fill-mid"},
		{lo, hi, "/mod"},
		{hi, 0x7ffffffff000, "/fill-high"},
	};
	struct map_entry e[5];
	struct proc_maps m = maps_of(e, v, 5);
	uint64_t addr = 0;

	ASSERT_OK(placement_find(&m, lo, hi, 0x10000, &addr));
	assert_valid(&m, lo, hi, 0x10000, addr);
	ASSERT_TRUE(addr + 0x10000 <= st_lo - STACK_ROOM);
	ASSERT_EQ(addr, st_lo - STACK_ROOM - PAGE - 0x10000);
}

TEST(stack_room_can_leave_nothing)
{
	/* The library sits 128 MiB below the stack; nothing else is free. */
	const uint64_t st_lo = 0x7ffffffde000, lo = st_lo - 128 * MIB - 0x200000;
	const uint64_t hi = lo + 0x200000;
	const struct span v[] = {
		{0x10000, lo, "/fill"},
		{lo, hi, "/usr/lib/libx.so"},
		{st_lo, 0x7ffffffff000, "[stack]"},
	};
	struct map_entry e[3];
	struct proc_maps m = maps_of(e, v, 3);
	uint64_t addr = 0;

	ASSERT_ERR(placement_find(&m, lo, hi, 0x10000, &addr), -ENOSPC);
}

TEST(nothing_in_reach_is_enospc)
{
	/* Plenty of space, all of it more than 2 GiB away. */
	const uint64_t lo = 0x100000000, hi = lo + 0x100000;
	const struct span v[] = {
		{0x10000, lo, "/fill-low"},
		{lo, hi, "/mod"},
		{hi, hi + 3 * GIB, "/fill-high"},
	};
	struct map_entry e[3];
	struct proc_maps m = maps_of(e, v, 3);
	uint64_t addr = 0;

	ASSERT_ERR(placement_find(&m, lo, hi, 0x10000, &addr), -ENOSPC);
	ASSERT_CONTAINS(hp_err_msg(-ENOSPC), "2 GiB");
}

TEST(object_larger_than_every_gap_is_enospc)
{
	struct map_entry e[5];
	struct proc_maps m = maps_of(e, pie, 5);
	uint64_t addr = 0;

	/* Larger than the window itself. */
	ASSERT_ERR(placement_find(&m, pie[0].start, pie[0].end, 4 * GIB, &addr), -ENOSPC);
}

TEST(gap_must_hold_object_and_guard_pages)
{
	/* One gap of exactly size + 2 guard pages fits; one page less does not. */
	const uint64_t lo = 0x100000000, hi = lo + 0x100000, size = 0x4000;
	const struct span fits[] = {
		{0x10000, lo - size - 2 * PAGE, "/fill-low"},
		{lo, hi, "/mod"},
		{hi, 0x7ffffffff000, "/fill-high"},
	};
	struct span tight[3];
	struct map_entry e[3];
	struct proc_maps m = maps_of(e, fits, 3);
	uint64_t addr = 0;

	ASSERT_OK(placement_find(&m, lo, hi, size, &addr));
	ASSERT_EQ(addr, lo - size - PAGE);
	memcpy(tight, fits, sizeof(tight));
	tight[0].end += PAGE;
	m = maps_of(e, tight, 3);
	ASSERT_ERR(placement_find(&m, lo, hi, size, &addr), -ENOSPC);
}

TEST(huge_module_is_erange)
{
	struct proc_maps m = {0};
	uint64_t addr = 0;

	ASSERT_ERR(placement_find(&m, 0x100000000, 0x100000000 + 3 * GIB, PAGE, &addr), -ERANGE);
	ASSERT_ERR(placement_find(&m, 0x100000000, 0x100000000 + REACH, PAGE, &addr), -ERANGE);
	/* Empty maps and a module of reasonable size: somewhere fits. */
	ASSERT_OK(placement_find(&m, 0x100000000, 0x100000000 + GIB, PAGE, &addr));
}

TEST(non_pie_low_addresses)
{
	/* ET_EXEC at 0x400000: the window is clamped at the lowest usable
	 * address, and the space below the executable is closest. */
	const struct span v[] = {
		{0x400000, 0x401000, "/usr/bin/t"},
		{0x401000, 0x600000, "/usr/bin/t"},
		{0x600000, 0x621000, "[heap]"},
	};
	struct map_entry e[3];
	struct proc_maps m = maps_of(e, v, 3);
	uint64_t addr = 0;

	ASSERT_OK(placement_find(&m, 0x400000, 0x600000, 0x10000, &addr));
	assert_valid(&m, 0x400000, 0x600000, 0x10000, addr);
	ASSERT_EQ(addr, 0x400000 - PAGE - 0x10000);
	ASSERT_TRUE(addr >= 0x10000);
}

TEST(real_process_layout)
{
	struct proc_maps m;
	const struct map_entry *me;
	uint64_t addr = 0, lo, hi;

	/* Our own executable as the target module: the placement must be in
	 * unmapped space of this very process. */
	ASSERT_OK(proc_maps_read(getpid(), &m));
	me = proc_maps_find(&m, (uint64_t)(uintptr_t)maps_of);
	ASSERT_NOT_NULL(me);
	lo = me->start;
	hi = me->end;
	for (size_t i = 0; i < m.n; i++)
		if (m.v[i].path && me->path && strcmp(m.v[i].path, me->path) == 0) {
			lo = lo < m.v[i].start ? lo : m.v[i].start;
			hi = hi > m.v[i].end ? hi : m.v[i].end;
		}
	ASSERT_OK(placement_find(&m, lo, hi, 0x20000, &addr));
	assert_valid(&m, lo, hi, 0x20000, addr);
	ASSERT_NULL(proc_maps_find(&m, addr));
	ASSERT_NULL(proc_maps_find(&m, addr + 0x20000 - 1));
	proc_maps_free(&m);
}
