/* SPDX-License-Identifier: MIT */
/*
 * Which files a running process maps that a package upgrade has replaced
 * since it loaded them: the code it runs is no longer the code on disk.
 *
 * A mapped program or library (an ELF file with an executable mapping) is
 * stale when the file now at its path, seen from the process's own root
 * (/proc/PID/root, so in its mount namespace: a container's file, not the
 * host's), is another inode whose build-id differs from the mapped one's,
 * or when nothing is at that path any more. The mapped inode is read
 * through /proc/PID/map_files, which reaches it even when it was deleted.
 * A file replaced by an identical build (a reinstall: same build-id) is not
 * stale: the process runs the code that is on disk.
 *
 * Build-ids come from module.c's cache (device, inode, change time, size),
 * so a thousand processes of one library read it once.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "elffile.h"

struct stale_file {
	char *path;          /* as the process sees it, without " (deleted)" */
	bool deleted;        /* the mapped inode has no name any more */
	bool exe;            /* it is the program the process runs */
	uint8_t running_id[HP_BUILD_ID_MAX];
	size_t running_len;
	uint8_t installed_id[HP_BUILD_ID_MAX];
	size_t installed_len; /* 0: no ELF file with a build-id at the path now */
};

struct stale_process {
	pid_t pid;
	char comm[32];
	struct stale_file *files;
	size_t n; /* 0: the process runs what is installed */
};

/* Fills @ret for @pid. A process that is gone or cannot be read (a kernel
 * thread, another user's without privilege) is -ESRCH or -EACCES. */
int stale_scan(pid_t pid, struct stale_process *ret);
void stale_process_free(struct stale_process *p);
