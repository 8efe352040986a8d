/* SPDX-License-Identifier: MIT */
/*
 * Finding the bundle's target among the files a process maps.
 *
 * Matching is by build-id only: the path may differ (a container, a chroot, a
 * file replaced on disk since the process started). Each mapped file is
 * opened through /proc/PID/map_files, which reaches the very inode the
 * process maps, in any mount namespace. Build-ids are cached by device,
 * inode, change time and size (inode numbers are reused), so scanning a
 * thousand processes reads each library once.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "procfs.h"

struct proc_module {
	const char *path;  /* as shown in maps (owned by the maps) */
	uint64_t bias;     /* runtime address = link-time address + bias */
	uint64_t lo, hi;   /* runtime span of its mappings */
	const struct map_entry *first; /* the mapping at file offset 0 */
};

/* 0 and @ret filled when a mapped file has this build-id; -ENOENT if none. */
int module_find(pid_t pid, const struct proc_maps *maps, const uint8_t *build_id,
		size_t build_id_len, struct proc_module *ret);
/* The build-id of the program @pid runs (through /proc/PID/exe), from the
 * same cache: the daemon's look at every exec costs a stat when the program
 * is known. @ret_id holds HP_BUILD_ID_MAX bytes; *ret_len 0: none. */
int module_exe_build_id(pid_t pid, uint8_t *ret_id, size_t *ret_len);
/* The build-id of the file at @path (any file: the one installed at a
 * mapped file's path, say), from the same cache; *ret_len 0: none. */
int module_path_build_id(const char *path, uint8_t *ret_id, size_t *ret_len);
/* The build-id of the file @e maps, read through map_files (the mapped
 * inode, deleted or not), from the same cache; *ret_len 0: none. */
int module_map_build_id(pid_t pid, const struct map_entry *e, uint8_t *ret_id, size_t *ret_len);
/* Open the module's file (the mapped inode) read-only. */
int module_open(pid_t pid, const struct proc_module *m);
void module_cache_clear(void);
