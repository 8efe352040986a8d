/* SPDX-License-Identifier: MIT */
/*
 * Where a patch object goes in the target's address space: in a free gap
 * from which every redirecting jump (x86-64 `jmp rel32`, ±2 GiB; arm64 `b`,
 * ±128 MiB) reaches it from every function of the target module, as close
 * to the module as possible. Gaps where the process itself grows (just
 * above [heap], just below [stack]) are left alone.
 */
#pragma once

#include <stdint.h>

struct proc_maps;

/* @mod_lo/@mod_hi: runtime span of the target module. @size: the object's
 * page-aligned span. */
int placement_find(const struct proc_maps *maps, uint64_t mod_lo, uint64_t mod_hi, uint64_t size,
		   uint64_t *ret_addr);
