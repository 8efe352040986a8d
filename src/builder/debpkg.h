/* SPDX-License-Identifier: MIT */
/*
 * What dpkg's database (under a system root) says about an installed file:
 * the binary package that owns it, its installed version, and the source
 * package (and source version) it was built from. Read from the files
 * directly, so a chroot's or a container's root needs no dpkg of its own.
 */
#pragma once

#include <stddef.h>

struct debpkg {
	char *package;        /* binary package, without :arch */
	char *version;        /* installed version */
	char *source;         /* source package */
	char *source_version; /* differs from version for binNMUs */
	char *path;           /* the file's path as dpkg lists it */
};

/* @sysroot: "/" or a root directory; @path: the file's path inside it. */
int debpkg_owner(const char *sysroot, const char *path, struct debpkg *ret);
void debpkg_free(struct debpkg *p);
/* "1:2.3+dfsg-4" -> "2.3+dfsg" (newly allocated) */
char *debver_upstream(const char *version);
/* "1:2.3-4" -> "2.3-4": the form in file names dpkg-buildpackage and
 * dpkg-source make */
const char *debver_noepoch(const char *version);
/* "1:2.3-4" -> "1%3a2.3-4": the form apt-get download saves a .deb under
 * (the epoch kept, its colon escaped); without an epoch, the version.
 * Written to @ret (at most @len bytes). */
void debver_apt_filename(const char *version, char *ret, size_t len);
/* @path, a path inside @sysroot ("" or "/" for the host), with every
 * symbolic link resolved inside that root: an absolute link target is taken
 * from the root, not from the host ("/usr/bin/prog -> prog-tool" gives
 * "/usr/bin/prog-tool"). */
int debpkg_resolve_in_root(const char *sysroot, const char *path, char *ret, size_t len);
