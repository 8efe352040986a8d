/* SPDX-License-Identifier: MIT */
/*
 * Which version a running build is, when the apt hook recorded none (a
 * process older than hotpatch's install, a `dpkg -i` without apt): Debian's
 * -dbgsym packages list the build-ids of the files they carry symbols for
 * (`Build-Ids:` in the archive's Packages index), and a -dbgsym package has
 * the version of the package it belongs to. So the apt lists of the
 * process's root, where they include a debug archive (deb.debian.org's
 * debian-debug, or a local repository with the dbgsym packages), name the
 * package and version of a build-id.
 *
 * One pass over the root's lists answers every build-id asked for: the
 * index of a debug archive is tens of MB, read line by line. Compressed
 * lists (Acquire::GzipIndexes) are not read.
 */
#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catchup_pkg.h"
#include "error.h"
#include "macro.h"

#define SUFFIX "-dbgsym"

struct stanza {
	char package[128];
	char version[128];
};

/* Fills the matches of one Build-Ids line (@ids: space-separated). */
static void match_ids(const struct stanza *s, const char *ids, struct dbgsym_query *q, size_t n)
{
	size_t plen = strlen(s->package), slen = strlen(SUFFIX);

	if (plen <= slen || strcmp(s->package + plen - slen, SUFFIX) != 0 || !s->version[0])
		return;
	for (size_t i = 0; i < n; i++) {
		const char *at = q[i].found ? NULL : strstr(ids, q[i].build_id);
		size_t idlen = strlen(q[i].build_id);

		/* a whole word: not a prefix of a longer id */
		if (!at || (at != ids && at[-1] != ' ') || (at[idlen] && at[idlen] != ' '))
			continue;
		snprintf(q[i].package, sizeof(q[i].package), "%.*s", (int)(plen - slen),
			 s->package);
		snprintf(q[i].version, sizeof(q[i].version), "%s", s->version);
		q[i].found = true;
	}
}

static void scan_file(const char *path, struct dbgsym_query *q, size_t n)
{
	FILE *f = fopen(path, "re");
	_cleanup_free_ char *line = NULL;
	struct stanza s = {0};
	size_t cap = 0;
	ssize_t len;

	while (f && (len = getline(&line, &cap, f)) > 0) {
		line[strcspn(line, "\n")] = '\0';
		if (!line[0])
			s = (struct stanza){0};
		else if (strncmp(line, "Package: ", 9) == 0)
			snprintf(s.package, sizeof(s.package), "%s", line + 9);
		else if (strncmp(line, "Version: ", 9) == 0)
			snprintf(s.version, sizeof(s.version), "%s", line + 9);
		else if (strncmp(line, "Build-Ids: ", 11) == 0)
			match_ids(&s, line + 11, q, n);
	}
	if (f)
		fclose(f);
}

void catchup_dbgsym_lookup(const char *root, struct dbgsym_query *q, size_t n)
{
	char dir[PATH_MAX], path[PATH_MAX * 2];
	DIR *d;
	struct dirent *de;

	snprintf(dir, sizeof(dir), "%s/var/lib/apt/lists", root);
	d = opendir(dir);
	while (d && (de = readdir(d))) {
		size_t len = strlen(de->d_name);

		if (len < 9 || strcmp(de->d_name + len - 9, "_Packages") != 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		scan_file(path, q, n);
	}
	if (d)
		closedir(d);
}
