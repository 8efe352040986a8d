/* SPDX-License-Identifier: MIT */
/*
 * Resolving a patch's references to other modules (libc's memcpy, say) the
 * way the target's own dynamic linker would: walk its link map (r_debug, found
 * through DT_DEBUG of the main program) in order, and take the first module
 * whose .dynsym defines the name with the requested version (or the default
 * version when none is requested).
 *
 * An IFUNC's symbol value is its resolver, which we will not run in the
 * target. Instead we read the address ld.so already chose for that name from
 * a GOT slot of any module of the process; if no module uses it yet, the
 * patch is refused with that reason.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct proc_maps;
struct linkmap;

int linkmap_open(pid_t pid, int memfd, const struct proc_maps *maps, struct linkmap **ret);
struct linkmap *linkmap_free(struct linkmap *lm);
/* @version: "" for none. A weak reference that resolves nowhere yields 0. */
int linkmap_resolve(struct linkmap *lm, const char *name, const char *version, bool weak,
		    uint64_t *ret);
