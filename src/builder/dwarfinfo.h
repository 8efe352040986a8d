/* SPDX-License-Identifier: MIT */
/*
 * What the debug info of an object says: the layout of each struct (to
 * refuse a fix that changes one: running code and live data use the old
 * layout), and for each function where its source starts and which
 * functions were inlined into it (to say why a function changed: the diff
 * touched it, or it inlines one the diff touched). Read with libdwfl, which
 * applies the relocations a relocatable object's DWARF needs.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct dw_struct {
	char *name;
	uint64_t size;
	char *layout; /* "member@offset;..." */
};

struct dw_func {
	char *name;
	char *file;
	unsigned line;     /* where its definition starts */
	unsigned end_line; /* up to the next definition in the file */
	char **inlines;    /* functions inlined into it */
	size_t ninlines;
};

struct dw_info {
	struct dw_struct *structs;
	size_t nstructs;
	struct dw_func *funcs;
	size_t nfuncs;
	char *srcfiles; /* the line tables' files outside /usr, tree paths, ", "-separated */
};

/* The full path of the source file object @obj_path was compiled from:
 * its first unit's DW_AT_name, under DW_AT_comp_dir when relative, its
 * "." and "dir/.." steps taken (lexically). -ENOENT when it has no debug
 * info. */
int dwarfinfo_cu_path(const char *obj_path, char *ret, size_t len);
/* No debug info is not an error: the info is then empty. */
int dwarfinfo_read(const char *obj_path, struct dw_info *ret);
void dwarfinfo_free(struct dw_info *d);
const struct dw_func *dwarfinfo_func(const struct dw_info *d, const char *name);
/*
 * Does the function @fn of @obj_path take all its arguments in registers
 * (at most 6 integers or pointers and 8 floats or doubles, no aggregate,
 * no long double, not variadic) and return its result, if any, in one
 * register? 1 if so, with *ret_result where its result comes back; 0 if not,
 * with the reason in @why; -ENOENT when the debug info does not describe it.
 */
enum dw_result { DW_RESULT_NONE, DW_RESULT_RAX, DW_RESULT_XMM0 };
int dwarfinfo_args_in_regs(const char *obj_path, const char *fn, enum dw_result *ret_result,
			   char *why, size_t len);
/* The first struct whose layout differs, or NULL. */
const struct dw_struct *dwarfinfo_layout_change(const struct dw_info *orig,
						const struct dw_info *fixed,
						const struct dw_struct **ret_orig);
