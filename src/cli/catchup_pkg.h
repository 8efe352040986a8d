/* SPDX-License-Identifier: MIT */
/*
 * What the packaging system of a process's root says about a file it maps:
 * the package that owns it, the version installed now (dpkg-query, with
 * --admindir in that root, so a container's own dpkg database answers for
 * a container's process), and the CVE ids its Debian changelog lists
 * between two versions (/usr/share/doc/PKG/changelog.Debian.gz, read with
 * gzip, which every Debian root has).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "changelog.h"

/* @root: "/proc/PID/root" or "/"; @path: the file as the process sees it.
 * Fills the binary package's name (without :arch). */
int catchup_pkg_owner(const char *root, const char *path, char *ret, size_t len);
/* The installed version of @package in @root; -ENOENT when not installed. */
int catchup_pkg_version(const char *root, const char *package, char *ret, size_t len);
/* The CVE ids between @running and @installed in @package's changelog. */
int catchup_pkg_cves(const char *root, const char *package, const char *running,
		     const char *installed, struct changelog_cves *ret);
/* A build-id whose package and version the apt lists' -dbgsym entries may
 * name (catchup_dbgsym.c). */
struct dbgsym_query {
	char build_id[2 * 64 + 1]; /* hex */
	bool found;
	char package[128];         /* the binary package, without "-dbgsym" */
	char version[128];
};

/* Answers what it can of @q[0..n) from @root's apt lists, in one pass. */
void catchup_dbgsym_lookup(const char *root, struct dbgsym_query *q, size_t n);
/* Drops the answers remembered during this run (catchup_free() calls it). */
void catchup_pkg_forget(void);
/* Runs @argv (no shell) and returns its standard output (at most @max
 * bytes, NUL-terminated) in @ret; standard error is passed through only
 * when @show_errors. Non-zero exit: -EIO. */
int catchup_capture(char *const argv[], size_t max, bool show_errors, char **ret);
