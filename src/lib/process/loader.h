/* SPDX-License-Identifier: MIT */
/*
 * Loading a patch object into a running process with raw system calls only.
 *
 * The object's file (in the store) is handed to the target as a file
 * descriptor (a socketpair made in the target, one end fetched with
 * pidfd_getfd, SCM_RIGHTS), so it works across mount namespaces and for
 * targets that cannot open the store. Each PT_LOAD is mapped from that file
 * with its final protection, so the text is shared page cache across every
 * patched process and nothing is ever writable and executable (this also
 * works under MemoryDenyWriteExecute). The RELRO part is mapped read-only and
 * relocated through /proc/PID/mem; only pages whose contents change are
 * written, so only they become private. The record is written last: an
 * object without a valid record was never completely loaded.
 */
#pragma once

#include <stdint.h>
#include <sys/types.h>

#include "record.h"

struct bundle;
struct linkmap;
struct proc_maps;
struct proc_module;
struct remote;

struct loader_target {
	pid_t pid;
	int memfd;
	const struct proc_maps *maps;
	const struct proc_module *mod;
	struct linkmap *lm;
	int object_fd; /* the .hpo in the store, opened by us */
};

struct loaded_object {
	uint64_t base;
	uint64_t size;
	uint64_t text_lo, text_hi;
};

/* The object's page-aligned span and its executable range (link-time). */
int loader_layout(const struct bundle *b, uint64_t *ret_size, uint64_t *ret_text_lo,
		  uint64_t *ret_text_hi);
/* Loads the object and writes @rec (entries' addr, len and prev filled by the
 * caller; new_addr and load_base filled here). */
int loader_load(struct remote *rm, const struct loader_target *t, const struct bundle *b,
		struct record *rec, struct loaded_object *ret);
int loader_unload(struct remote *rm, uint64_t base, uint64_t size);
