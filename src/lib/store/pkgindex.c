/* SPDX-License-Identifier: MIT */
#include "pkgindex.h"

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "error.h"
#include "fileio.h"
#include "macro.h"
#include "paths.h"

#define LINE_MAX_LEN 2048
#define FILE_MAX ((size_t)PKGINDEX_MAX * LINE_MAX_LEN)

static void index_path(char *ret, size_t len)
{
	snprintf(ret, len, "%s/catch-up/builds", paths()->state);
}

/* Splits one line into @ret; false when it is not five tab-separated
 * fields that fit. */
static bool parse_line(char *line, struct pkgindex_entry *ret)
{
	char *f[5], *save = NULL;
	size_t n = 0;

	for (char *t = strtok_r(line, "\t", &save); t && n < 5; t = strtok_r(NULL, "\t", &save))
		f[n++] = t;
	if (n != 5 || strlen(f[0]) >= sizeof(ret->build_id) ||
	    strlen(f[1]) >= sizeof(ret->package) || strlen(f[2]) >= sizeof(ret->version) ||
	    strlen(f[3]) >= sizeof(ret->new_version) || strlen(f[4]) >= sizeof(ret->path))
		return false;
	snprintf(ret->build_id, sizeof(ret->build_id), "%s", f[0]);
	snprintf(ret->package, sizeof(ret->package), "%s", f[1]);
	snprintf(ret->version, sizeof(ret->version), "%s", f[2]);
	snprintf(ret->new_version, sizeof(ret->new_version), "%s", f[3]);
	snprintf(ret->path, sizeof(ret->path), "%s", f[4]);
	return true;
}

/* Every well-formed line of the index, oldest first. */
static int read_all(struct pkgindex_entry **ret, size_t *ret_n)
{
	_cleanup_free_ uint8_t *data = NULL;
	struct pkgindex_entry *v = NULL;
	char path[PATH_MAX], *save = NULL;
	size_t len, n = 0;
	int r;

	index_path(path, sizeof(path));
	r = file_read_all(path, FILE_MAX, &data, &len);
	if (r == -ENOENT) {
		hp_err_clear();
		*ret = NULL;
		*ret_n = 0;
		return 0;
	}
	if (r < 0)
		return r;
	v = calloc(PKGINDEX_MAX + 1, sizeof(*v));
	if (!v)
		return hp_err(-ENOMEM, "out of memory");
	for (char *l = strtok_r((char *)data, "\n", &save); l && n < PKGINDEX_MAX;
	     l = strtok_r(NULL, "\n", &save))
		n += parse_line(l, &v[n]);
	*ret = v;
	*ret_n = n;
	return 0;
}

static bool valid_field(const char *s)
{
	return *s && !strpbrk(s, "\t\n");
}

int pkgindex_add(const struct pkgindex_entry *add, size_t nadd)
{
	struct pkgindex_entry *v = NULL;
	char path[PATH_MAX], dir[PATH_MAX];
	struct buf out = {0};
	size_t n = 0, skip;
	int r;

	r = read_all(&v, &n);
	if (r < 0)
		return r;
	for (size_t i = 0; i < nadd; i++)
		if (!valid_field(add[i].build_id) || !valid_field(add[i].package) ||
		    !valid_field(add[i].version) || !valid_field(add[i].new_version) ||
		    !valid_field(add[i].path)) {
			free(v);
			return hp_err(-EINVAL, "a build-id record with an empty field or a tab: %s",
				      add[i].path);
		}
	/* An older line of the same build and package says nothing more. */
	for (size_t i = 0; i < n; i++)
		for (size_t k = 0; k < nadd; k++)
			if (strcmp(v[i].build_id, add[k].build_id) == 0 &&
			    strcmp(v[i].package, add[k].package) == 0)
				v[i].build_id[0] = '\0';
	skip = n + nadd > PKGINDEX_MAX ? n + nadd - PKGINDEX_MAX : 0;
	for (size_t i = 0; i < n + nadd; i++) {
		const struct pkgindex_entry *e = i < n ? &v[i] : &add[i - n];

		if (i < skip || !e->build_id[0])
			continue;
		buf_printf(&out, "%s\t%s\t%s\t%s\t%s\n", e->build_id, e->package, e->version,
			   e->new_version, e->path);
	}
	free(v);
	snprintf(dir, sizeof(dir), "%s/catch-up", paths()->state);
	index_path(path, sizeof(path));
	r = out.oom ? hp_err(-ENOMEM, "out of memory") : mkdir_p(dir, 0755);
	if (r == 0)
		r = file_write_atomic(path, out.data, out.len, 0644);
	buf_free(&out);
	return r;
}

int pkgindex_find(const char *build_id, struct pkgindex_entry *ret)
{
	struct pkgindex_entry *v = NULL;
	size_t n = 0;
	int r = read_all(&v, &n);

	if (r < 0)
		return r;
	r = -ENOENT;
	for (size_t i = n; i-- > 0;)
		if (strcmp(v[i].build_id, build_id) == 0) {
			*ret = v[i];
			r = 0;
			break;
		}
	free(v);
	return r;
}
