/* SPDX-License-Identifier: MIT */
/*
 * Keeping dpkg truthful about committed files. A bundle built with
 * --upgrade-to has Debian's own newer file as its fixed file: commit then
 * installs that package version with dpkg, from a .deb found on this host
 * and checked against the bundle, instead of renaming a file over one of the
 * package's (which leaves dpkg saying the old version, and `dpkg --verify`
 * reporting the file changed). For any other file of a package, the change
 * is recorded: which package owns it, so that status says dpkg reports it.
 *
 * dpkg acts on the host (/), whatever hotpatch's --root: targets are the
 * host's files.
 */
#pragma once

#include <stddef.h>

struct debref;

/* Where a .deb matching @d (name, size, SHA-256) is: hotpatch's store
 * (var/lib/hotpatch/debs) or apt's cache (/var/cache/apt/archives). 0 and
 * @ret set, or -ENOENT with a message naming the file looked for. */
int dpkg_find_deb(const struct debref *d, char *ret, size_t len);

/* The version of @package:@arch dpkg has installed ("ii"), or -ENOENT. */
int dpkg_installed_version(const char *package, const char *arch, char *ret, size_t len);

/* dpkg -i @deb, keeping changed configuration files, with no service
 * started or restarted from its maintainer scripts when policy-rc.d is
 * hotpatch's (at boot, a synchronous restart would wait for the boot that
 * waits for commit). 0, or a negative errno with dpkg's last line. */
int dpkg_install(const char *deb);

/* The package that ships @path (dpkg -S), or -ENOENT. */
int dpkg_owner(const char *path, char *ret, size_t len);
