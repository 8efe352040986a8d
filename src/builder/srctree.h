/* SPDX-License-Identifier: MIT */
/*
 * The source trees of a diff build: copies of the user's tree (never built in
 * place), the diff applied to one of them, and builds run through a compiler
 * wrapper that adds the flags the comparison needs and logs every compiler
 * invocation.
 */
#pragma once

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

struct srctree {
	char work[PATH_MAX];
	char wrapdir[PATH_MAX]; /* compiler wrappers, first on PATH */
	char log[PATH_MAX];     /* build output */
	char cclog[PATH_MAX];   /* one line per compiler invocation */
};

int srctree_init(struct srctree *t, const char *work);
/* Copies @src to @dst, minus build products (objects, archives, shared
 * objects), so the build redoes every compilation with our flags. */
int srctree_copy(const char *src, const char *dst);
/* Applies @diff (-p1, else -p0) inside @dir; refuses a diff that does not
 * apply cleanly. */
int srctree_apply(const char *dir, const char *diff);
/* The default build command for @dir, or NULL when it cannot tell. */
const char *srctree_guess_build(const char *dir);
/* Builds @dir with @cmd. @diffable adds -ffunction-sections -fdata-sections
 * -g to every compilation. @label names the step in progress output. */
int srctree_build(const struct srctree *t, const char *dir, const char *cmd, bool diffable,
		  const char *label);
/* Every object under @dir, .o and glibc's .os, that is ELF (glibc's stamp.o
 * files are text): relative paths, sorted. */
int srctree_objects(const char *dir, char ***ret, size_t *ret_n);
/* The built file named like @target (or at @rel when given) under @dir. */
int srctree_find_output(const char *dir, const char *target, const char *rel, char *ret,
			size_t len);
