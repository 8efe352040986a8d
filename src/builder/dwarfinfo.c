/* SPDX-License-Identifier: MIT */
#include "dwarfinfo.h"

#include <dwarf.h>
#include <elfutils/libdwfl.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "macro.h"
#include "error.h"

#define DEPTH_MAX 64

static char *debuginfo_path;
static const Dwfl_Callbacks offline_callbacks = {
	.find_elf = dwfl_build_id_find_elf,
	.find_debuginfo = dwfl_standard_find_debuginfo,
	.section_address = dwfl_offline_section_address,
	.debuginfo_path = &debuginfo_path,
};

/* libdwfl on one file, its relocations applied: *ret_mod is NULL when the
 * file cannot be read as ELF. */
static int open_offline(const char *obj_path, Dwfl **ret, Dwfl_Module **ret_mod)
{
	Dwfl *dwfl = dwfl_begin(&offline_callbacks);

	if (!dwfl)
		return hp_err(-ENOMEM, "libdwfl: %s", dwfl_errmsg(-1));
	dwfl_report_begin(dwfl);
	*ret_mod = dwfl_report_offline(dwfl, obj_path, obj_path, -1);
	dwfl_report_end(dwfl, NULL, NULL);
	*ret = dwfl;
	return 0;
}

void dwarfinfo_free(struct dw_info *d)
{
	for (size_t i = 0; i < d->nstructs; i++) {
		free(d->structs[i].name);
		free(d->structs[i].layout);
	}
	free(d->structs);
	for (size_t i = 0; i < d->nfuncs; i++) {
		free(d->funcs[i].name);
		free(d->funcs[i].file);
		for (size_t k = 0; k < d->funcs[i].ninlines; k++)
			free(d->funcs[i].inlines[k]);
		free(d->funcs[i].inlines);
	}
	free(d->funcs);
	free(d->srcfiles);
	*d = (struct dw_info){0};
}

/* The files a unit's line table names, outside /usr (the package's own:
 * an assembly file's includes say which sources it was made from), as
 * paths in the source tree. */
static void add_srcfiles(Dwarf_Die *cu, struct buf *out)
{
	Dwarf_Files *files;
	size_t n;

	if (dwarf_getsrcfiles(cu, &files, &n) != 0)
		return;
	for (size_t i = 1; i < n && out->len < 2000; i++) {
		const char *f = dwarf_filesrc(files, i, NULL, NULL);
		const char *base;
		char key[512];

		if (!f || strncmp(f, "/usr/", 5) == 0)
			continue;
		/* relative to the source tree: ../sysdeps/x/y.S, /build/.../pkg-1/x.c */
		base = strstr(f, "/reproducible-path/");
		if (base && strchr(base + 19, '/'))
			base = strchr(base + 19, '/') + 1;
		else
			base = f;
		while (strncmp(base, "../", 3) == 0)
			base += 3;
		snprintf(key, sizeof(key), "%s, ", base);
		if (!buf_cstr(out) || !strstr((const char *)out->data, key))
			buf_printf(out, "%s", key);
	}
}

static int add_struct(struct dw_info *d, Dwarf_Die *die)
{
	const char *name = dwarf_diename(die);
	Dwarf_Attribute a;
	Dwarf_Word size;
	struct buf layout = {0};
	struct dw_struct *nv;
	Dwarf_Die m;

	if (!name || dwarf_hasattr(die, DW_AT_declaration) ||
	    !dwarf_attr(die, DW_AT_byte_size, &a) || dwarf_formudata(&a, &size) != 0)
		return 0;
	for (size_t i = 0; i < d->nstructs; i++)
		if (strcmp(d->structs[i].name, name) == 0)
			return 0;
	if (dwarf_child(die, &m) == 0)
		do {
			Dwarf_Word off = 0;
			const char *mn = dwarf_diename(&m);

			if (dwarf_tag(&m) != DW_TAG_member)
				continue;
			if (dwarf_attr(&m, DW_AT_data_member_location, &a))
				dwarf_formudata(&a, &off);
			buf_printf(&layout, "%s@%llu;", mn ? mn : "?", (unsigned long long)off);
		} while (dwarf_siblingof(&m, &m) == 0);
	nv = realloc(d->structs, (d->nstructs + 1) * sizeof(*nv));
	if (!nv || layout.oom) {
		buf_free(&layout);
		return -ENOMEM;
	}
	d->structs = nv;
	nv[d->nstructs++] = (struct dw_struct){.name = strdup(name), .size = size,
					       .layout = strdup(buf_cstr(&layout) ? (char *)layout.data
										   : "")};
	buf_free(&layout);
	return 0;
}

static void collect_inlines(Dwarf_Die *die, struct dw_func *f, int depth)
{
	Dwarf_Die c;

	if (depth > DEPTH_MAX || dwarf_child(die, &c) != 0)
		return;
	do {
		if (dwarf_tag(&c) == DW_TAG_inlined_subroutine) {
			Dwarf_Attribute a;
			Dwarf_Die origin;
			const char *n;
			char **nv;

			if (dwarf_attr(&c, DW_AT_abstract_origin, &a) &&
			    dwarf_formref_die(&a, &origin) && (n = dwarf_diename(&origin)) &&
			    (nv = realloc(f->inlines, (f->ninlines + 1) * sizeof(*nv)))) {
				f->inlines = nv;
				nv[f->ninlines] = strdup(n);
				if (nv[f->ninlines])
					f->ninlines++;
			}
		}
		collect_inlines(&c, f, depth + 1);
	} while (dwarf_siblingof(&c, &c) == 0);
}

static int add_func(struct dw_info *d, Dwarf_Die *die)
{
	const char *name = dwarf_diename(die), *file;
	struct dw_func *nv;
	int line = 0;

	if (!name || dwarf_hasattr(die, DW_AT_declaration))
		return 0;
	file = dwarf_decl_file(die);
	dwarf_decl_line(die, &line);
	/* A function both inlined and out of line has an abstract entry and a
	 * concrete one (where the inlines are): one function either way. */
	for (size_t i = 0; i < d->nfuncs; i++)
		if (strcmp(d->funcs[i].name, name) == 0 && file &&
		    strcmp(d->funcs[i].file, file) == 0) {
			collect_inlines(die, &d->funcs[i], 0);
			return 0;
		}
	nv = realloc(d->funcs, (d->nfuncs + 1) * sizeof(*nv));
	if (!nv)
		return -ENOMEM;
	d->funcs = nv;
	nv[d->nfuncs] = (struct dw_func){.name = strdup(name), .file = strdup(file ? file : "?"),
					 .line = (unsigned)line};
	collect_inlines(die, &nv[d->nfuncs], 0);
	d->nfuncs++;
	return 0;
}

static int walk(struct dw_info *d, Dwarf_Die *die, int depth)
{
	Dwarf_Die c;
	int r = 0;

	if (depth > DEPTH_MAX || dwarf_child(die, &c) != 0)
		return 0;
	do {
		int tag = dwarf_tag(&c);

		if (tag == DW_TAG_structure_type || tag == DW_TAG_union_type)
			r = add_struct(d, &c);
		else if (tag == DW_TAG_subprogram)
			r = add_func(d, &c);
		if (r == 0 && tag != DW_TAG_subprogram)
			r = walk(d, &c, depth + 1);
	} while (r == 0 && dwarf_siblingof(&c, &c) == 0);
	return r;
}

static int cmp_func(const void *a, const void *b)
{
	const struct dw_func *x = a, *y = b;
	int c = strcmp(x->file, y->file);

	return c ? c : (x->line > y->line) - (x->line < y->line);
}

/* A function's source runs up to the line before the next one's. */
static void compute_ends(struct dw_info *d)
{
	qsort(d->funcs, d->nfuncs, sizeof(*d->funcs), cmp_func);
	for (size_t i = 0; i < d->nfuncs; i++) {
		bool last = i + 1 == d->nfuncs || strcmp(d->funcs[i].file, d->funcs[i + 1].file);

		d->funcs[i].end_line = last ? (unsigned)-1
					    : MAX(d->funcs[i].line, d->funcs[i + 1].line - 1);
	}
}

int dwarfinfo_read(const char *obj_path, struct dw_info *ret)
{
	struct dw_info d = {0};
	struct buf srcs = {0};
	Dwfl *dwfl = NULL;
	Dwfl_Module *mod = NULL;
	Dwarf_Die *cu = NULL;
	Dwarf_Addr bias;
	int r;

	*ret = d;
	r = open_offline(obj_path, &dwfl, &mod);
	if (r < 0)
		return r;
	while (mod && r == 0 && (cu = dwfl_module_nextcu(mod, cu, &bias))) {
		r = walk(&d, cu, 0);
		add_srcfiles(cu, &srcs);
	}
	dwfl_end(dwfl);
	if (r < 0) {
		buf_free(&srcs);
		dwarfinfo_free(&d);
		return hp_err(r, "out of memory");
	}
	if (buf_cstr(&srcs) && srcs.len >= 2) {
		srcs.data[srcs.len - 2] = 0; /* the last ", " */
		d.srcfiles = (char *)srcs.data;
	} else {
		buf_free(&srcs);
	}
	compute_ends(&d);
	*ret = d;
	return 0;
}

/* @path with its "." and "dir/.." steps taken, in place, lexically: a
 * package that builds flavours compiles ../../../../src/x.c from
 * debian/normal-build/src/liblzma and from debian/static-build/src/liblzma,
 * which are one source file. */
static void path_lexical(char *path)
{
	_cleanup_free_ char *in = strdup(path);
	const char *p = in;
	bool abs = path[0] == '/';
	size_t out = abs, keep = abs; /* keep: where a ".." may not go back past */

	if (!in)
		return; /* out of memory: the path as it is, still a path */
	while (*p) {
		size_t n = strcspn(p, "/");
		bool up = n == 2 && p[0] == '.' && p[1] == '.';

		if ((n == 1 && p[0] == '.') || n == 0 || (up && abs && out == 1)) {
			/* nothing: "", ".", or "/.." */
		} else if (up && out > keep) {
			/* back over the last step, "a/" */
			out--;
			while (out > keep && path[out - 1] != '/')
				out--;
		} else {
			memcpy(path + out, p, n);
			out += n;
			path[out++] = '/';
			if (up)
				keep = out; /* a leading "..": kept */
		}
		p += n + (p[n] == '/');
	}
	if (out > (size_t)abs)
		out--; /* the last '/' */
	else if (!out)
		path[out++] = '.';
	path[out] = 0;
}

int dwarfinfo_cu_path(const char *obj_path, char *ret, size_t len)
{
	Dwfl *dwfl = NULL;
	Dwfl_Module *mod = NULL;
	Dwarf_Die *cu;
	Dwarf_Addr bias;
	Dwarf_Attribute a;
	const char *name = NULL, *dir = NULL;
	int r = -ENOENT;

	r = open_offline(obj_path, &dwfl, &mod);
	if (r < 0)
		return r;
	r = -ENOENT;
	cu = mod ? dwfl_module_nextcu(mod, NULL, &bias) : NULL;
	if (cu)
		name = dwarf_diename(cu);
	if (cu)
		dir = dwarf_formstring(dwarf_attr(cu, DW_AT_comp_dir, &a));
	if (name) {
		if (name[0] == '/' || !dir)
			snprintf(ret, len, "%s", name);
		else
			snprintf(ret, len, "%s/%s", dir, name);
		path_lexical(ret);
		r = 0;
	}
	dwfl_end(dwfl);
	return r;
}

const struct dw_func *dwarfinfo_func(const struct dw_info *d, const char *name)
{
	size_t n = strcspn(name, "."); /* f.constprop.0 is f */

	for (size_t i = 0; i < d->nfuncs; i++)
		if (strlen(d->funcs[i].name) == n && strncmp(d->funcs[i].name, name, n) == 0)
			return &d->funcs[i];
	return NULL;
}

const struct dw_struct *dwarfinfo_layout_change(const struct dw_info *orig,
						const struct dw_info *fixed,
						const struct dw_struct **ret_orig)
{
	for (size_t i = 0; i < fixed->nstructs; i++)
		for (size_t k = 0; k < orig->nstructs; k++) {
			const struct dw_struct *a = &orig->structs[k], *b = &fixed->structs[i];

			if (strcmp(a->name, b->name) != 0)
				continue;
			if (a->size != b->size || strcmp(a->layout, b->layout) != 0) {
				*ret_orig = a;
				return b;
			}
		}
	return NULL;
}

/* Through typedefs and qualifiers to the type itself; NULL for void. */
static Dwarf_Die *real_type(Dwarf_Die *die, Dwarf_Die *mem)
{
	Dwarf_Attribute a;
	Dwarf_Die *t = die;

	for (int i = 0; i < DEPTH_MAX; i++) {
		if (!dwarf_attr(t, DW_AT_type, &a) || !(t = dwarf_formref_die(&a, mem)))
			return NULL;
		switch (dwarf_tag(t)) {
		case DW_TAG_typedef:
		case DW_TAG_const_type:
		case DW_TAG_volatile_type:
		case DW_TAG_restrict_type:
		case DW_TAG_atomic_type:
			continue;
		default:
			return t;
		}
	}
	return NULL;
}

enum arg_class { ARG_INT, ARG_SSE, ARG_OTHER };

static enum arg_class classify_type(Dwarf_Die *t)
{
	Dwarf_Attribute a;
	Dwarf_Word enc = 0, size = 0;

	switch (dwarf_tag(t)) {
	case DW_TAG_pointer_type:
	case DW_TAG_reference_type:
	case DW_TAG_rvalue_reference_type:
	case DW_TAG_enumeration_type:
		return ARG_INT;
	case DW_TAG_base_type:
		dwarf_formudata(dwarf_attr(t, DW_AT_encoding, &a), &enc);
		dwarf_formudata(dwarf_attr(t, DW_AT_byte_size, &a), &size);
		if (enc == DW_ATE_float && (size == 4 || size == 8))
			return ARG_SSE;
		if (enc != DW_ATE_float && enc != DW_ATE_complex_float && size <= 8)
			return ARG_INT;
		return ARG_OTHER;
	default:
		return ARG_OTHER;
	}
}

static int check_params(Dwarf_Die *fn, char *why, size_t len)
{
	Dwarf_Die c, tmem, *t;
	int ints = 0, sses = 0;

	if (dwarf_child(fn, &c) != 0)
		return 1;
	do {
		if (dwarf_tag(&c) == DW_TAG_unspecified_parameters) {
			snprintf(why, len, "it is variadic");
			return 0;
		}
		if (dwarf_tag(&c) != DW_TAG_formal_parameter)
			continue;
		t = real_type(&c, &tmem);
		switch (t ? classify_type(t) : ARG_OTHER) {
		case ARG_INT:
			ints++;
			break;
		case ARG_SSE:
			sses++;
			break;
		default:
			snprintf(why, len, "its parameter %s is passed in memory or is an aggregate",
				 dwarf_diename(&c) ? dwarf_diename(&c) : "?");
			return 0;
		}
	} while (dwarf_siblingof(&c, &c) == 0);
	if (ints > 6 || sses > 8) {
		snprintf(why, len, "some of its arguments are passed on the stack");
		return 0;
	}
	return 1;
}

static Dwarf_Die *find_subprogram(Dwarf_Die *cu, const char *fn, Dwarf_Die *mem)
{
	if (dwarf_child(cu, mem) != 0)
		return NULL;
	do {
		const char *n = dwarf_diename(mem);

		if (dwarf_tag(mem) == DW_TAG_subprogram && n && strcmp(n, fn) == 0 &&
		    !dwarf_hasattr(mem, DW_AT_declaration))
			return mem;
	} while (dwarf_siblingof(mem, mem) == 0);
	return NULL;
}

int dwarfinfo_args_in_regs(const char *obj_path, const char *fn, enum dw_result *ret_result,
			   char *why, size_t len)
{
	Dwfl *dwfl = NULL;
	Dwarf_Die *cu = NULL, mem, tmem, *sub = NULL, *rt;
	Dwfl_Module *mod = NULL;
	Dwarf_Addr bias;
	int r = -ENOENT;

	r = open_offline(obj_path, &dwfl, &mod);
	if (r < 0)
		return r;
	r = -ENOENT;
	while (mod && !sub && (cu = dwfl_module_nextcu(mod, cu, &bias)))
		sub = find_subprogram(cu, fn, &mem);
	if (sub) {
		rt = real_type(sub, &tmem);
		r = check_params(sub, why, len);
		*ret_result = !rt				 ? DW_RESULT_NONE
			      : classify_type(rt) == ARG_SSE ? DW_RESULT_XMM0
							     : DW_RESULT_RAX;
		if (r == 1 && rt && classify_type(rt) == ARG_OTHER) {
			snprintf(why, len, "it returns an aggregate or a long double");
			r = 0;
		}
	}
	dwfl_end(dwfl);
	return r;
}
