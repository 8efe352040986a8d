/* SPDX-License-Identifier: MIT */
#include "auditfiles.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "error.h"
#include "macro.h"

#define GZ_SUFFIX ".gz"

struct rotation {
	unsigned long n;
	char *path;
};

/* N when @name is @base.N or @base.N.gz (N >= 1, digits only), else 0. */
static unsigned long rotation_number(const char *name, const char *base)
{
	size_t bl = strlen(base), digits;
	const char *p;

	if (strncmp(name, base, bl) != 0 || name[bl] != '.')
		return 0;
	p = name + bl + 1;
	digits = strspn(p, "0123456789");
	if (digits == 0 || digits > 9 || p[0] == '0')
		return 0;
	if (p[digits] != '\0' && strcmp(p + digits, GZ_SUFFIX) != 0)
		return 0;
	return strtoul(p, NULL, 10);
}

static int by_number_desc(const void *a, const void *b)
{
	const struct rotation *x = a, *y = b;

	return x->n < y->n ? 1 : x->n > y->n ? -1 : 0;
}

static int add_path(struct audit_files *f, const char *dir, const char *name)
{
	char **p = reallocarray(f->paths, f->n + 1, sizeof(*p));

	if (!p)
		return -ENOMEM;
	f->paths = p;
	if (asprintf(&p[f->n], "%s/%s", dir, name) < 0)
		return -ENOMEM;
	f->n++;
	return 0;
}

/* Every rotation of @base in @d, unsorted. */
static int scan(DIR *d, const char *base, struct rotation **ret, size_t *ret_n)
{
	struct rotation *rot = NULL, *grown;
	struct dirent *de;
	size_t n = 0;

	while ((de = readdir(d))) {
		unsigned long num = rotation_number(de->d_name, base);

		if (!num)
			continue;
		grown = reallocarray(rot, n + 1, sizeof(*rot));
		if (!grown)
			goto oom;
		rot = grown;
		rot[n].n = num;
		rot[n].path = strdup(de->d_name);
		if (!rot[n++].path)
			goto oom;
	}
	*ret = rot;
	*ret_n = n;
	return 0;
oom:
	for (size_t i = 0; i < n; i++)
		free(rot[i].path);
	free(rot);
	return -ENOMEM;
}

static int collect(const char *dir, const char *base, struct audit_files *f)
{
	struct rotation *rot = NULL;
	size_t n = 0;
	DIR *d = opendir(dir);
	int r;

	if (!d)
		return errno == ENOENT ? 0 : hp_err(-errno, "cannot read %s: %m", dir);
	r = scan(d, base, &rot, &n);
	closedir(d);
	if (r < 0)
		return r;
	if (n)
		qsort(rot, n, sizeof(*rot), by_number_desc);
	for (size_t i = 0; r == 0 && i < n; i++) {
		if (i + 1 < n && rot[i].n == rot[i + 1].n)
			r = hp_err(-EBADMSG, "both %s and %s are in %s: remove the one that is "
					     "not logrotate's",
				   rot[i].path, rot[i + 1].path, dir);
		else
			r = add_path(f, dir, rot[i].path);
	}
	for (size_t i = 0; i < n; i++)
		free(rot[i].path);
	free(rot);
	return r;
}

int audit_files_list(const char *log, struct audit_files *ret)
{
	_cleanup_free_ char *d = strdup(log), *b = strdup(log);
	struct audit_files f = {0};
	const char *dir, *base;
	int r;

	if (!d || !b)
		return -ENOMEM;
	dir = dirname(d);
	base = basename(b);
	r = collect(dir, base, &f);
	if (r == 0 && access(log, F_OK) == 0)
		r = add_path(&f, dir, base);
	else if (r == 0 && errno != ENOENT)
		r = hp_err(-errno, "cannot open the audit log %s: %m", log);
	if (r < 0) {
		audit_files_free(&f);
		return r;
	}
	*ret = f;
	return 0;
}

void audit_files_free(struct audit_files *f)
{
	for (size_t i = 0; i < f->n; i++)
		free(f->paths[i]);
	free(f->paths);
	f->paths = NULL;
	f->n = 0;
}

struct audit_reader {
	gzFile gz;
	const char *path;
	char *line;
	size_t cap;
};

/* zlib reads a file that is not compressed as it is, so the log and an
 * uncompressed rotation (logrotate's delaycompress) need no second path. */
int audit_reader_open(const char *path, struct audit_reader **ret)
{
	struct audit_reader *r;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return hp_err(-errno, "cannot open %s: %m", path);
	r = calloc(1, sizeof(*r));
	if (r)
		r->gz = gzdopen(fd, "rb");
	if (!r || !r->gz) {
		free(r);
		close(fd);
		return hp_err(-ENOMEM, "out of memory reading %s", path);
	}
	r->path = path;
	*ret = r;
	return 0;
}

/* Grows the line buffer to hold @need bytes. */
static int reserve(struct audit_reader *r, size_t need)
{
	char *p;

	if (need <= r->cap)
		return 0;
	p = realloc(r->line, need);
	if (!p)
		return -ENOMEM;
	r->line = p;
	r->cap = need;
	return 0;
}

static int damaged(struct audit_reader *r)
{
	int err = Z_OK;
	const char *msg = gzerror(r->gz, &err);

	if (err == Z_OK || err == Z_STREAM_END)
		return 0;
	return hp_err(-EBADMSG, "%s cannot be decompressed (%s): it was damaged or cut short",
		      r->path, msg);
}

int audit_reader_next(struct audit_reader *r, size_t max, const char **ret_line,
		      size_t *ret_len)
{
	size_t len = 0;

	for (;;) {
		if (reserve(r, len + 4096) < 0)
			return -ENOMEM;
		if (!gzgets(r->gz, r->line + len, (int)(r->cap - len))) {
			int e = damaged(r);

			if (e < 0 || len == 0)
				return e < 0 ? e : 0;
			break; /* a last line without its newline */
		}
		len += strlen(r->line + len);
		if (len > 0 && r->line[len - 1] == '\n') {
			r->line[--len] = '\0';
			break;
		}
		if (len > max)
			return hp_err(-EBADMSG, "%s has a line longer than %zu bytes", r->path, max);
	}
	*ret_line = r->line;
	*ret_len = len;
	return 1;
}

void audit_reader_close(struct audit_reader *r)
{
	if (!r)
		return;
	gzclose(r->gz);
	free(r->line);
	free(r);
}
