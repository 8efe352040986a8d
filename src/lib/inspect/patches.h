/* SPDX-License-Identifier: MIT */
/*
 * The patches loaded in a process, read back from the process itself: every
 * mapping of a file named <id>.hpo is a patch object; its record (found via
 * the object's own __hotpatch_record symbol) says what it redirects, and the
 * code bytes say whether each redirection is active. This is the single
 * source of truth for status, revert and re-apply.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "bundle.h"
#include "record.h"

struct proc_maps;

struct loaded_patch {
	char id[BUNDLE_ID_LEN + 1];
	char *path;
	uint64_t base;
	uint64_t size;
	uint64_t text_lo, text_hi;
	bool rec_valid; /* false: loading never completed */
	struct record rec;
	bool *active; /* per record entry: the jump to this patch is in place */
	size_t nactive;
	/* Per record entry: not active, but another patch's jump is there with
	 * this one's jump in its record's chain of previous bytes (a newer
	 * patch of the same function stacked on it). Applied all the same. */
	bool *stacked;
	size_t nstacked;
	char under[BUNDLE_ID_LEN + 1]; /* the patch on top, when nstacked */
};

int patches_scan(pid_t pid, int memfd, const struct proc_maps *maps, struct loaded_patch **ret,
		 size_t *ret_n);
void patches_free(struct loaded_patch *v, size_t n);
/* Every function of @p is redirected to it, or to a patch stacked on it. */
bool patches_applied(const struct loaded_patch *p);
struct loaded_patch *patches_find(struct loaded_patch *v, size_t n, const char *id);
/* The loaded patch whose active jump sits at @addr, if any. */
struct loaded_patch *patches_owner(struct loaded_patch *v, size_t n, uint64_t addr, size_t *ret_i);
/* Is @name a patch object file name (<16 hex>.hpo)? Fills @ret_id. */
bool patches_is_object_path(const char *path, char ret_id[BUNDLE_ID_LEN + 1]);
