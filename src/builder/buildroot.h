/* SPDX-License-Identifier: MIT */
/*
 * The clean build root: a minimal root of the package's release (made once
 * with mmdebstrap, then reused), where source packages are built the way
 * Debian's builders build them, in /build/reproducible-path/, with their
 * build dependencies installed inside the root by apt-get build-dep. Nothing
 * is ever installed on the host.
 *
 * For tests and for sources whose build dependencies the host already has,
 * the root may be the host itself ("/"): the builds then happen under the
 * cache directory and the build dependencies are only checked.
 */
#pragma once

#include <limits.h>
#include <stdbool.h>

struct buildroot {
	char root[PATH_MAX];   /* the root directory, "/" for the host */
	char base[PATH_MAX];   /* the build directory, as a host path */
	char inroot[PATH_MAX]; /* the same directory, as builds see it */
	char log[PATH_MAX];    /* output of every command run in the root */
	const char *profiles;  /* build profiles (DEB_BUILD_PROFILES), or NULL */
	bool host;
};

/* @root: a root to use as it is, "/" for the host, or NULL for the cached
 * root of @suite under @cache (made with mmdebstrap when missing). */
int buildroot_open(struct buildroot *b, const char *cache, const char *root, const char *suite);
/* Installs the build dependencies of the source tree at @dir (host path,
 * under b->base) inside the root; on the host, checks them instead. */
int buildroot_build_deps(const struct buildroot *b, const char *dir);
/* dpkg-buildpackage of the tree at @dir (host path, under b->base), binary
 * architecture-dependent packages only, with b->profiles, through the root's
 * ccache when it has one (the cache kept in b->base). @cflags: appended
 * to every compiler call (through wrappers, since some packages, glibc
 * among them, set their own flags), or NULL. @partial: the tree is a version Debian never
 * built (some fixes left out), so its exported symbols need not match the
 * package's symbols file. */
int buildroot_build(const struct buildroot *b, const char *dir, const char *cflags,
		    bool partial, const char *label);
/* Downloads Debian's binary package @package @version (the .deb) into @dir
 * (host path, under b->base) with the root's apt, which knows the archive of
 * the root's release; on the host, with the host's. */
int buildroot_fetch_binary(const struct buildroot *b, const char *package, const char *version,
			   const char *dir);
