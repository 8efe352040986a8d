/* SPDX-License-Identifier: MIT */
/*
 * What a Debian changelog (/usr/share/doc/PKG/changelog.Debian.gz, already
 * decompressed) says was fixed between two versions: the CVE ids of every
 * entry newer than the version a process runs and not newer than the one
 * installed. Versions are compared as dpkg does (debversion.h), so a
 * changelog whose entries skip the running version (a binNMU, a version
 * never installed here) still gives the right range. Pure text: no I/O.
 */
#pragma once

#include <stddef.h>

struct changelog_cves {
	char **ids;     /* "CVE-YYYY-N...", each once, newest entry first */
	size_t n;
	size_t entries; /* changelog entries in the range */
};

/* @text: the changelog, @len bytes (need not be NUL-terminated). */
int changelog_cves_between(const char *text, size_t len, const char *running,
			   const char *installed, struct changelog_cves *ret);
void changelog_cves_free(struct changelog_cves *c);
