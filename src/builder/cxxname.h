/* SPDX-License-Identifier: MIT */
/*
 * C++ names as a person writes them, for HOTPATCH_REPLACE_CXX: the target's
 * symbols are mangled (_ZNK6Square4areaEv); a patch may name the function
 * as C++ source does ("Square::area() const", or "Square::area" when the
 * class has one function of that name). Demangled with libstdc++'s
 * __cxa_demangle, loaded the first time a name needs it (lazylib.h).
 */
#pragma once

struct symtab;
struct symtab_entry;

/* The demangled form of @mangled (free() it), or NULL when it is not a C++
 * name; -ENOENT in @ret_err when libstdc++ cannot be loaded (message set). */
char *cxxname_demangle(const char *mangled, int *ret_err);

/*
 * The function of @st whose demangled name is @name: exactly, or without
 * its parameter list and qualifiers when only one function has that name.
 * "(anonymous namespace)::" may be left out. Compiler clones ([clone
 * .isra.0]) are not candidates. @file restricts to the statics of that file
 * as symtab_lookup() does. -ENOENT, or -ENOTUNIQ listing the candidates.
 */
int cxxname_lookup(const struct symtab *st, const char *name, const char *file,
		   const struct symtab_entry **ret);
