/* SPDX-License-Identifier: MIT */
/*
 * Who calls or jumps to whom directly in a linked file: every call and jump
 * with its target in the instruction that leaves its function, read once
 * with capstone. Calls through the PLT or a pointer are not edges: they
 * follow the ABI, which is all regcheck.h needs to know of them.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "clobber.h"

struct symtab_entry;

struct callgraph_edge {
	uint64_t to;
	const struct symtab_entry *from;
};

struct callgraph {
	struct callgraph_edge *v; /* by target */
	size_t n;
};

int callgraph_build(const struct clobber_image *img, struct callgraph *ret);
void callgraph_free(struct callgraph *g);
/* The functions with a direct call or jump to @vaddr (not the one at @vaddr
 * itself), each once: a malloc'ed array of pointers into the symbols. */
int callgraph_callers(const struct callgraph *g, uint64_t vaddr,
		      const struct symtab_entry ***ret, size_t *ret_n);
