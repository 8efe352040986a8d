/* SPDX-License-Identifier: MIT */
#include "callgraph.h"

#include <elf.h>
#include <stdbool.h>
#include <stdlib.h>

#include "disasm.h"
#include "elffile.h"
#include "error.h"
#include "symtab.h"

static int by_range(const void *a, const void *b)
{
	const struct symtab_entry *x = *(const struct symtab_entry *const *)a;
	const struct symtab_entry *y = *(const struct symtab_entry *const *)b;

	if (x->value != y->value)
		return x->value < y->value ? -1 : 1;
	return x->size < y->size ? -1 : x->size > y->size;
}

/* The function symbols with bytes, each range once (aliases share theirs). */
static int func_ranges(const struct symtab *st, const struct symtab_entry ***ret, size_t *ret_n)
{
	const struct symtab_entry **v = calloc(st->n + 1, sizeof(*v));
	size_t n = 0, k = 0;

	if (!v)
		return hp_err(-ENOMEM, "out of memory");
	for (size_t i = 0; i < st->n; i++)
		if (st->v[i].type == STT_FUNC && st->v[i].size)
			v[n++] = &st->v[i];
	qsort(v, n, sizeof(*v), by_range);
	for (size_t i = 0; i < n; i++)
		if (!k || by_range(&v[k - 1], &v[i]) != 0)
			v[k++] = v[i];
	*ret = v;
	*ret_n = k;
	return 0;
}

static int add_edge(struct callgraph *g, size_t *cap, uint64_t to, const struct symtab_entry *from)
{
	struct callgraph_edge *nv;

	if (g->n == *cap) {
		*cap = *cap ? 2 * *cap : 256;
		nv = realloc(g->v, *cap * sizeof(*nv));
		if (!nv)
			return hp_err(-ENOMEM, "out of memory");
		g->v = nv;
	}
	g->v[g->n++] = (struct callgraph_edge){to, from};
	return 0;
}

/* The calls and jumps of @e that leave it. */
static int scan(struct disasm *d, struct elf_file *elf, const struct symtab_entry *e,
		struct callgraph *g, size_t *cap)
{
	uint8_t *code = malloc(e->size);
	const uint8_t *p = code;
	uint64_t addr = e->value, to;
	size_t left = e->size;
	int r;

	if (!code)
		return hp_err(-ENOMEM, "out of memory");
	r = elf_file_read_vaddr(elf, e->value, code, e->size);
	while (r == 0 && left && cs_disasm_iter(d->cs, &p, &left, &addr, d->insn))
		if (disasm_direct_target(d->insn, &to) && (to < e->value || to >= e->value + e->size))
			r = add_edge(g, cap, to, e);
	free(code);
	return r;
}

static int by_target(const void *a, const void *b)
{
	const struct callgraph_edge *x = a, *y = b;

	return (x->to > y->to) - (x->to < y->to);
}

int callgraph_build(const struct clobber_image *img, struct callgraph *ret)
{
	const struct symtab_entry **fn = NULL;
	struct callgraph g = {0};
	struct disasm d;
	size_t nfn = 0, cap = 0;
	int r;

	r = func_ranges(img->syms, &fn, &nfn);
	if (r < 0)
		return r;
	r = disasm_open(&d);
	if (r < 0) {
		free(fn);
		return r;
	}
	for (size_t i = 0; r == 0 && i < nfn; i++)
		r = scan(&d, img->elf, fn[i], &g, &cap);
	disasm_close(&d);
	free(fn);
	if (r < 0) {
		free(g.v);
		return r;
	}
	if (g.n)
		qsort(g.v, g.n, sizeof(*g.v), by_target);
	*ret = g;
	return 0;
}

void callgraph_free(struct callgraph *g)
{
	free(g->v);
	*g = (struct callgraph){0};
}

int callgraph_callers(const struct callgraph *g, uint64_t vaddr,
		      const struct symtab_entry ***ret, size_t *ret_n)
{
	const struct symtab_entry **v;
	size_t lo = 0, hi = g->n, n = 0;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (g->v[mid].to < vaddr)
			lo = mid + 1;
		else
			hi = mid;
	}
	v = calloc(g->n - lo + 1, sizeof(*v));
	if (!v)
		return hp_err(-ENOMEM, "out of memory");
	for (size_t i = lo; i < g->n && g->v[i].to == vaddr; i++) {
		bool seen = g->v[i].from->value == vaddr;

		for (size_t k = 0; k < n && !seen; k++)
			seen = v[k] == g->v[i].from;
		if (!seen)
			v[n++] = g->v[i].from;
	}
	*ret = v;
	*ret_n = n;
	return 0;
}
