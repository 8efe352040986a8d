/* SPDX-License-Identifier: MIT */
/*
 * Shared libraries loaded the first time one of their functions is called,
 * not at every start of hotpatch. Each one linked normally costs the
 * dynamic linker its mapping, its symbol lookups and those of its own
 * dependencies on every exec; libdw (with liblzma and libbz2) and libzstd
 * together were a third of `hotpatch --version`'s CPU time, and an `apply
 * --pid` of a stored patch needs neither (README, performance).
 *
 * A *_lazy.c file defines each function the program uses under the
 * library's own name (so callers use the real API unchanged, and the
 * compiler checks every signature against the library's header) and
 * forwards it with LAZY_FORWARD. Since the executable is not linked with
 * the library, it exports none of these names: the library's own internal
 * calls never reach the forwarders.
 */
#pragma once

#include <stdbool.h>

struct lazy_lib {
	const char *soname;
	const char *package; /* the Debian package that ships it, for the message */
	bool tried;
	void *handle;
	char error[256];
};

#define LAZY_LIB(so, pkg)                                                                          \
	{                                                                                          \
		.soname = (so), .package = (pkg)                                                   \
	}

/* Loads @l if not yet loaded: 0, or -ENOENT with a message. */
int lazy_open(struct lazy_lib *l);
/* The address of @name in @l. A library or symbol that cannot be found
 * ends the program with the dynamic linker's exit code (127) and a line
 * saying which package to reinstall: a missing Depends would have stopped
 * every start before. */
void *lazy_sym(struct lazy_lib *l, const char *name);

/* The body of a forwarder: looks up @name once (thread-safe), then calls
 * it with @args. For void functions, LAZY_FORWARD_VOID. */
#define LAZY_FN_PTR(lib, name)                                                                     \
	({                                                                                         \
		static __typeof__(name) *fn_;                                                      \
		__typeof__(name) *f_ = __atomic_load_n(&fn_, __ATOMIC_ACQUIRE);                    \
		if (!f_) {                                                                         \
			f_ = (__typeof__(name) *)lazy_sym(&(lib), #name);                          \
			__atomic_store_n(&fn_, f_, __ATOMIC_RELEASE);                              \
		}                                                                                  \
		f_;                                                                                \
	})
#define LAZY_FORWARD(lib, name, args) return LAZY_FN_PTR(lib, name) args
#define LAZY_FORWARD_VOID(lib, name, args) LAZY_FN_PTR(lib, name) args
