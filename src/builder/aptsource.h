/* SPDX-License-Identifier: MIT */
/*
 * Fetching Debian source packages with an apt configuration of our own: a
 * sources list with deb-src lines for the Debian mirrors the host's
 * configuration names, and apt's state and cache under hotpatch's cache
 * directory. The host's apt configuration is read, never written.
 *
 * A directory of .dsc files (a local archive, for tests and offline hosts)
 * can stand in for the mirror.
 */
#pragma once

#include <stddef.h>

struct aptsource {
	char dir[4096];       /* <cache>/apt */
	char conf[4096];      /* its apt.conf */
	char downloads[4096]; /* where source packages are kept */
	const char *local;    /* directory of .dsc files, or NULL */
};

int aptsource_init(struct aptsource *a, const char *cache, const char *local);
/* Extracts @source @version into @dest (which must not exist): the tree with
 * its Debian patches applied, as dpkg-source -x leaves it. */
int aptsource_extract(struct aptsource *a, const char *source, const char *version,
		      const char *dest);
/* The Debian mirrors of the host (deb lines), one per line, for building a
 * root of the same release: "deb URI SUITE COMPONENTS". */
int aptsource_mirrors(char **ret);
