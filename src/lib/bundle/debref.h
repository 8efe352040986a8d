/* SPDX-License-Identifier: MIT */
/*
 * The Debian package a bundle's fixed file comes from (build --upgrade-to):
 * its name, the version whose file is the fixed file, the version the patch
 * was built against, its architecture, and the SHA-256 and size of that
 * version's .deb. Carried as a small signed section (key=value lines), so
 * that commit can install the package with dpkg instead of renaming a file
 * over one of its files, and checks the .deb it finds against it.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

struct debref {
	char package[128];
	char version[128];      /* whose file is the fixed file */
	char from_version[128]; /* installed when the bundle was built */
	char arch[32];
	uint8_t sha256[32]; /* of the .deb */
	uint64_t size;
};

/* Strict: every field present, names and versions in Debian's alphabets
 * (they become file names and dpkg arguments). 0 or -EBADMSG with a message. */
int debref_parse(const char *text, size_t len, struct debref *ret);
/* The section's text (malloc'ed). */
int debref_format(const struct debref *d, char **ret);
/* The name apt saves the .deb under: package_version_arch.deb, the epoch's
 * colon written %3a. */
void debref_apt_filename(const struct debref *d, char *ret, size_t len);
