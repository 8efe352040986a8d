/* SPDX-License-Identifier: MIT */
/*
 * <hotpatch/patch.h>: what a patch source includes.
 *
 * A patch source is a plain C file. It defines the fixed functions and says,
 * with the macros below, which function of the target each one replaces. The
 * macros only record metadata in non-loaded ELF sections (.hotpatch.*) that
 * `hotpatch build` reads; they generate no code.
 *
 * The patch may call the target's other functions and use its data, static
 * (file-local) ones included, by their plain names: declare them `extern`
 * with their real types. `hotpatch build` resolves each name in the target's
 * symbol table. When a static name exists in several files of the target,
 * say which one with HOTPATCH_LOCAL or HOTPATCH_ALIAS.
 *
 * Example:
 *
 *     #include <hotpatch/patch.h>
 *
 *     extern int parse_len(const char *s);        // the vulnerable function
 *     extern int max_len;                          // static in the target
 *     HOTPATCH_LOCAL(max_len, "server.c");
 *
 *     HOTPATCH_CVE("CVE-2024-12345");
 *     HOTPATCH_DESCRIPTION("parse_len: reject lengths above max_len");
 *     HOTPATCH_REPLACE(parse_len, parse_len_fixed);
 *
 *     int parse_len_fixed(const char *s)
 *     {
 *             int n = atoi(s);
 *             return n > max_len ? -1 : n;
 *     }
 *
 * Strings given to these macros may not contain double quotes or
 * backslashes (they are copied into assembler directives).
 */
#ifndef HOTPATCH_PATCH_H
#define HOTPATCH_PATCH_H

#define HOTPATCH__SECTION(name) ".pushsection .hotpatch." name ",\"\",@progbits\n\t"
#define HOTPATCH__POP "\n\t.popsection"

/*
 * Replace the target's function `old` with the patch's function `new`.
 * `old` must be declared (extern, with its real prototype) before this line;
 * `new` is then declared with the same type, so a mismatch is a compile error.
 * `new` must not be static.
 */
#define HOTPATCH_REPLACE(old, new) HOTPATCH_REPLACE_STATIC(old, "", new)

/* Same, for a static function `old` defined in source file `file`. */
#define HOTPATCH_REPLACE_STATIC(old, file, new)                                                    \
	__typeof__(old) new __attribute__((used));                                                \
	__asm__(HOTPATCH__SECTION("replace") ".asciz \"" #old "\"\n\t.asciz \"" file              \
					     "\"\n\t.asciz \"" #new "\"" HOTPATCH__POP)

/*
 * Replace the C++ function named `name` (a string: "Square::area() const" as
 * c++filt writes it, "Square::area" when the name is not overloaded, or the
 * mangled "_ZNK6Square4areaEv"; "(anonymous namespace)::" may be left out)
 * with `new`, which the patch defines with C linkage (extern "C" in a C++
 * patch source; in C, any function: the object pointer is its first
 * argument). Its type is not checked against the target's.
 */
#define HOTPATCH_REPLACE_CXX(name, new)                                                            \
	__asm__(HOTPATCH__SECTION("replace") ".asciz \"" name "\"\n\t.asciz \"\"\n\t.asciz \"" #new  \
					     "\"" HOTPATCH__POP)

/* Resolve the patch's reference to static symbol `sym` to the one in `file`. */
#define HOTPATCH_LOCAL(sym, file)                                                                  \
	__asm__(HOTPATCH__SECTION("import") ".asciz \"" #sym "\"\n\t.asciz \"" #sym              \
					    "\"\n\t.asciz \"" file "\"" HOTPATCH__POP)

/* Refer to the target's symbol `name` (static, in `file`) as `alias`: for
 * when the patch needs two statics of the same name from different files. */
#define HOTPATCH_ALIAS(alias, name, file)                                                          \
	__asm__(HOTPATCH__SECTION("import") ".asciz \"" #alias "\"\n\t.asciz \"" name             \
					    "\"\n\t.asciz \"" file "\"" HOTPATCH__POP)

/* A CVE id this patch fixes; repeat for several. */
#define HOTPATCH_CVE(id) __asm__(HOTPATCH__SECTION("cve") ".asciz \"" id "\"" HOTPATCH__POP)

/* One line saying what the patch does. */
#define HOTPATCH_DESCRIPTION(text)                                                                 \
	__asm__(HOTPATCH__SECTION("desc") ".asciz \"" text "\"" HOTPATCH__POP)

#endif
