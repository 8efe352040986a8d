/* SPDX-License-Identifier: MIT */
#include "debpkg.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"
#include "macro.h"

static void fclosep(FILE **f)
{
	if (*f)
		fclose(*f);
}

void debpkg_free(struct debpkg *p)
{
	free(p->package);
	free(p->version);
	free(p->source);
	free(p->source_version);
	free(p->path);
	*p = (struct debpkg){0};
}

const char *debver_noepoch(const char *version)
{
	const char *colon = strchr(version, ':');

	return colon ? colon + 1 : version;
}

void debver_apt_filename(const char *version, char *ret, size_t len)
{
	const char *colon = strchr(version, ':');

	if (colon)
		snprintf(ret, len, "%.*s%%3a%s", (int)(colon - version), version, colon + 1);
	else
		snprintf(ret, len, "%s", version);
}

/* Appends component @c (not "." or "..") to @path. */
static int push_component(char *path, size_t len, const char *c, size_t n)
{
	size_t at = strlen(path);

	if (at + 1 + n >= len)
		return -ENAMETOOLONG;
	path[at] = '/';
	memcpy(path + at + 1, c, n);
	path[at + 1 + n] = 0;
	return 0;
}

/* One step of resolving: @done (resolved so far, in the root) + @rest. */
static int resolve_step(const char *root, char *done, size_t len, char *rest, size_t restlen,
			int *hops)
{
	size_t n = strcspn(rest, "/");
	char host[PATH_MAX * 2], link[PATH_MAX], next[PATH_MAX * 2];
	struct stat st;
	ssize_t k;

	if ((n == 1 && rest[0] == '.') || n == 0)
		goto advance;
	if (n == 2 && rest[0] == '.' && rest[1] == '.') {
		char *slash = strrchr(done, '/');

		if (slash)
			*slash = 0;
		goto advance;
	}
	if (push_component(done, len, rest, n) < 0)
		return -ENAMETOOLONG;
	snprintf(host, sizeof(host), "%s%s", root, done);
	if (lstat(host, &st) < 0 || !S_ISLNK(st.st_mode))
		goto advance;
	if (++*hops > 40)
		return -ELOOP;
	k = readlink(host, link, sizeof(link) - 1);
	if (k < 0)
		return -errno;
	link[k] = 0;
	*strrchr(done, '/') = 0; /* the link itself is replaced by its target */
	if (link[0] == '/')
		done[0] = 0;
	snprintf(next, sizeof(next), "%s/%s", link, rest + n);
	if (strlen(next) >= restlen)
		return -ENAMETOOLONG;
	memcpy(rest, next, strlen(next) + 1);
	return 0;
advance:
	memmove(rest, rest + n + (rest[n] == '/'), strlen(rest + n + (rest[n] == '/')) + 1);
	return 0;
}

int debpkg_resolve_in_root(const char *sysroot, const char *path, char *ret, size_t len)
{
	const char *root = strcmp(sysroot, "/") == 0 ? "" : sysroot;
	char rest[PATH_MAX * 2];
	int hops = 0, r = 0;

	snprintf(rest, sizeof(rest), "%s", path);
	ret[0] = 0;
	while (r == 0 && rest[0])
		r = resolve_step(root, ret, len, rest, sizeof(rest), &hops);
	if (r < 0)
		return hp_err(r, "cannot resolve %s inside %s: %s", path, sysroot[0] ? sysroot : "/",
			      strerror(-r));
	if (!ret[0])
		snprintf(ret, len, "/");
	return 0;
}

char *debver_upstream(const char *version)
{
	char *v = strdup(debver_noepoch(version));
	char *dash = v ? strrchr(v, '-') : NULL;

	if (dash)
		*dash = '\0';
	return v;
}

/* usrmerge: dpkg may list /bin/x for what is /usr/bin/x, and the other way. */
static bool same_path(const char *listed, const char *want)
{
	if (strcmp(listed, want) == 0)
		return true;
	if (strncmp(want, "/usr/", 5) == 0 && strcmp(listed, want + 4) == 0)
		return true;
	return strncmp(listed, "/usr/", 5) == 0 && strcmp(listed + 4, want) == 0;
}

static int list_has(const char *list, const char *want, char **ret_listed)
{
	_cleanup_(fclosep) FILE *f = fopen(list, "re");
	char line[4096];

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		if (same_path(line, want)) {
			*ret_listed = strdup(line);
			return *ret_listed ? 1 : -ENOMEM;
		}
	}
	return 0;
}

/* The package whose info/<pkg>.list names @path. */
static int find_owner(const char *info, const char *path, char **ret_pkg, char **ret_listed)
{
	DIR *d = opendir(info);
	struct dirent *e;
	int r = 0;

	if (!d)
		return hp_err(-errno, "cannot read dpkg's database %s: %m; is this a Debian root?",
			      info);
	while (r == 0 && (e = readdir(d))) {
		size_t len = strlen(e->d_name);
		char list[PATH_MAX];

		if (len < 6 || strcmp(e->d_name + len - 5, ".list"))
			continue;
		snprintf(list, sizeof(list), "%s/%s", info, e->d_name);
		r = list_has(list, path, ret_listed);
		if (r > 0) {
			*ret_pkg = strndup(e->d_name, len - 5);
			if (*ret_pkg)
				(*ret_pkg)[strcspn(*ret_pkg, ":")] = '\0';
			r = *ret_pkg ? 1 : -ENOMEM;
		}
	}
	closedir(d);
	if (r == 0)
		return hp_err(-ENOENT, "no installed package owns %s (per %s)", path, info);
	return r < 0 ? hp_err(r, "out of memory") : 0;
}

static char *field(const char *line, const char *name)
{
	size_t n = strlen(name);

	if (strncmp(line, name, n) || line[n] != ':')
		return NULL;
	line += n + 1;
	while (*line == ' ')
		line++;
	return strndup(line, strcspn(line, "\n"));
}

/* "src (1.2-3)" sets the source version too; plain "src" does not. */
static int split_source(struct debpkg *p, char *src)
{
	char *paren = strchr(src, '(');

	if (paren) {
		char *end = strchr(paren, ')');

		if (end)
			*end = '\0';
		p->source_version = strdup(paren + 1);
		while (paren > src && paren[-1] == ' ')
			paren--;
		*paren = '\0';
	}
	p->source = src;
	return 0;
}

/* One stanza of the status file, if it is @pkg's and installed. */
static int read_stanza(FILE *f, const char *pkg, struct debpkg *p, bool *ret_match)
{
	char line[4096];
	_cleanup_free_ char *name = NULL, *status = NULL, *version = NULL, *source = NULL;
	bool any = false;

	while (fgets(line, sizeof(line), f) && line[0] != '\n') {
		char *v;

		any = true;
		if ((v = field(line, "Package")))
			free(name), name = v;
		else if ((v = field(line, "Status")))
			free(status), status = v;
		else if ((v = field(line, "Version")))
			free(version), version = v;
		else if ((v = field(line, "Source")))
			free(source), source = v;
	}
	*ret_match = name && status && version && strcmp(name, pkg) == 0 &&
		     strstr(status, " installed");
	if (*ret_match) {
		p->version = TAKE_PTR(version);
		split_source(p, source ? TAKE_PTR(source) : strdup(pkg));
	}
	return any ? 1 : 0;
}

static int read_status(const char *status, const char *pkg, struct debpkg *p)
{
	_cleanup_(fclosep) FILE *f = fopen(status, "re");
	bool match = false;

	if (!f)
		return hp_err(-errno, "cannot read %s: %m", status);
	while (!match && read_stanza(f, pkg, p, &match) > 0)
		;
	if (!match)
		return hp_err(-ENOENT, "%s lists no installed package %s", status, pkg);
	if (!p->source_version)
		p->source_version = strdup(p->version);
	return p->source && p->source_version ? 0 : hp_err(-ENOMEM, "out of memory");
}

int debpkg_owner(const char *sysroot, const char *path, struct debpkg *ret)
{
	struct debpkg p = {0};
	char info[PATH_MAX], status[PATH_MAX];
	int r;

	snprintf(info, sizeof(info), "%s/var/lib/dpkg/info", sysroot);
	snprintf(status, sizeof(status), "%s/var/lib/dpkg/status", sysroot);
	r = find_owner(info, path, &p.package, &p.path);
	if (r == 0)
		r = read_status(status, p.package, &p);
	if (r < 0) {
		debpkg_free(&p);
		return r;
	}
	*ret = p;
	return 0;
}
