/* SPDX-License-Identifier: MIT */
#include "fixread.h"

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "debpkg.h"
#include "error.h"
#include "fileio.h"
#include "fixsplit.h"
#include "macro.h"
#include "srctree.h"
#include "strv.h"
#include "upstream.h"

/* The patch names of a quilt series, in order ("" when there is none). */
static int read_series(const char *tree, char ***ret, size_t *ret_n)
{
	char path[PATH_MAX];
	_cleanup_free_ uint8_t *data = NULL;
	char **v = NULL, *save = NULL;
	size_t len, n = 0;

	snprintf(path, sizeof(path), "%s/debian/patches/series", tree);
	if (file_read_all(path, 1 << 20, &data, &len) < 0) {
		*ret = NULL;
		*ret_n = 0;
		return 0;
	}
	for (char *l = strtok_r((char *)data, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		char name[PATH_MAX], **nv;

		if (sscanf(l, " %4095s", name) != 1 || name[0] == '#')
			continue;
		nv = realloc(v, (n + 1) * sizeof(*nv));
		if (!nv || !(nv[n] = strdup(name)))
			return hp_err(-ENOMEM, "out of memory");
		v = nv;
		n++;
	}
	*ret = v;
	*ret_n = n;
	return 0;
}

static bool same_file(const char *a, const char *b)
{
	_cleanup_free_ uint8_t *x = NULL, *y = NULL;
	size_t lx, ly;

	if (file_read_all(a, 1 << 26, &x, &lx) < 0 || file_read_all(b, 1 << 26, &y, &ly) < 0)
		return false;
	return lx == ly && memcmp(x, y, lx) == 0;
}

enum patch_change { PATCH_SAME, PATCH_ADDED, PATCH_CHANGED };

/* New in the newer series, changed since the older one, or the same. */
static enum patch_change how_new(const char *old_tree, const char *new_tree, char **old,
				 size_t nold, const char *name)
{
	char a[PATH_MAX * 2], b[PATH_MAX * 2];

	for (size_t i = 0; i < nold; i++)
		if (strcmp(old[i], name) == 0) {
			snprintf(a, sizeof(a), "%s/debian/patches/%s", old_tree, name);
			snprintf(b, sizeof(b), "%s/debian/patches/%s", new_tree, name);
			return same_file(a, b) ? PATCH_SAME : PATCH_CHANGED;
		}
	return PATCH_ADDED;
}

static int add_fix(struct fixlist *fl, const char *tree, const char *name)
{
	char path[PATH_MAX * 2];

	snprintf(path, sizeof(path), "%s/debian/patches/%s", tree, name);
	return fixlist_add(fl, name, path, NULL, NULL);
}


/* Does a changelog bullet name this patch? Only its full file name counts:
 * a bullet that lists several CVE ids names no patch by naming one. */
static bool mentions(const char *bullet, const char *patch)
{
	const char *base = strrchr(patch, '/') ? strrchr(patch, '/') + 1 : patch;

	return strstr(bullet, base) != NULL;
}

/* The first sub-item of a changelog bullet ("  * git-updates.diff: update:"
 * then "    - Fix ..."), or NULL. */
static const char *first_item(const char *bullet)
{
	return strstr(bullet, "\n    - ");
}

/* Is the bullet about patch @name itself: does its own line, before any
 * sub-item, name it? */
static bool bullet_is_about(const char *bullet, const char *name)
{
	const char *item = first_item(bullet);
	_cleanup_free_ char *head = item ? strndup(bullet, (size_t)(item - bullet)) : NULL;

	return item ? head && mentions(head, name) : mentions(bullet, name);
}

/* A bullet's CVE ids to a patch it names; when it names the patch only in
 * one of its sub-items, only that sub-item's ("    -
 * kfreebsd/submitted-auxv.diff: refreshed." brings none of its siblings'
 * ids). */
static void give_cves(struct fix *f, const char *bullet)
{
	if (bullet_is_about(bullet, f->name)) {
		diffparse_add_cves(&f->diff, bullet);
		return;
	}
	for (const char *item = first_item(bullet), *next; item; item = next) {
		_cleanup_free_ char *one = NULL;

		next = first_item(item + 1);
		one = strndup(item, next ? (size_t)(next - item) : strlen(item));
		if (one && mentions(one, f->name))
			diffparse_add_cves(&f->diff, one);
	}
}

static void take_bullet(struct fixlist *fl, const char *tree, const char *text)
{
	const char *done = NULL;

	diffparse_add_cves(&fl->changelog, text);
	for (size_t i = 0; i < fl->n; i++) {
		const char *w = fl->v[i].whole;

		if (!w && mentions(text, fl->v[i].name))
			give_cves(&fl->v[i], text);
		/* parts of one patch follow each other: one pass per patch */
		if (w && (!done || strcmp(done, w)) && mentions(text, w)) {
			fixsplit_bullet(fl, tree, w, text);
			done = w;
		}
	}
}

static int add_bullet(struct buf *bullet, char ***v, size_t *n)
{
	char **nv;

	if (!buf_cstr(bullet) || !bullet->data[0])
		return 0;
	nv = realloc(*v, (*n + 1) * sizeof(*nv));
	if (!nv || !(nv[*n] = strdup((const char *)bullet->data))) {
		if (nv)
			*v = nv;
		return hp_err(-ENOMEM, "out of memory");
	}
	*v = nv;
	(*n)++;
	bullet->len = 0;
	return 0;
}

/* The bullets ("  * ...", with their continuation and sub-item lines) of
 * the changelog entries newer than @old_version. */
static int read_changelog(const char *tree, const char *old_version, char ***ret, size_t *ret_n)
{
	char path[PATH_MAX + 32];
	_cleanup_free_ uint8_t *data = NULL;
	struct buf bullet = {0};
	char **v = NULL, *save = NULL;
	size_t len, n = 0;
	bool first = true;
	int r = 0;

	snprintf(path, sizeof(path), "%s/debian/changelog", tree);
	if (file_read_all(path, 1 << 24, &data, &len) < 0)
		return hp_err(-ENOENT, "%s is missing", path);
	for (char *l = strtok_r((char *)data, "\n", &save); l && r == 0;
	     l = strtok_r(NULL, "\n", &save)) {
		if (l[0] != ' ') {
			char ver[256];

			r = add_bullet(&bullet, &v, &n);
			if (l[0] == '-' || sscanf(l, "%*s (%255[^)])", ver) != 1)
				continue;
			/* The older version's own entry ends the range. */
			if (!first && strcmp(debver_noepoch(ver), debver_noepoch(old_version)) == 0)
				break;
			first = false;
			continue;
		}
		if (strncmp(l, "  * ", 4) == 0 || strncmp(l, " -- ", 4) == 0)
			r = add_bullet(&bullet, &v, &n);
		if (strncmp(l, " -- ", 4))
			buf_printf(&bullet, "%s\n", l);
	}
	if (r == 0)
		r = add_bullet(&bullet, &v, &n);
	buf_free(&bullet);
	*ret = v;
	*ret_n = n;
	return r;
}

/*
 * Is patch @name a cumulative update: does a bullet name it with sub-items
 * ("  * debian/patches/git-updates.diff: update from upstream stable
 * branch:" then "    - Fix ...")? Only such a patch is split by file; one
 * that was only refreshed stays whole, since taking its files from the
 * newer version would bring in other patches' changes to them.
 */
static bool cumulative(char **bullets, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (first_item(bullets[i]) && bullet_is_about(bullets[i], name))
			return true;
	return false;
}

/* A new upstream release: its difference, split by file, after the
 * patches' own fixes (a file a split patch covers stays that part). */
static int upstream_release(struct fixlist *fl, const char *old_tree, const char *new_tree,
			    const char *old_version, const char *workdir, char **bullets,
			    size_t nbullets)
{
	_cleanup_free_ char *version = upstream_newer(new_tree, old_version);
	char whole[300], dir[PATH_MAX * 2];
	int r;

	if (!version)
		return 0;
	snprintf(whole, sizeof(whole), "upstream %s", version);
	snprintf(dir, sizeof(dir), "%s/upstream", workdir);
	r = upstream_split(fl, old_tree, new_tree, whole, dir);
	if (r == 0)
		upstream_cves(fl, new_tree, whole, bullets, nbullets);
	return r;
}

int fixlist_read(const char *old_tree, const char *new_tree, const char *old_version,
		 const char *workdir, struct fixlist *ret)
{
	struct fixlist fl = {0};
	char **old = NULL, **cur = NULL, **bullets = NULL;
	size_t nold = 0, ncur = 0, nbullets = 0;
	int r;

	r = read_series(old_tree, &old, &nold);
	if (r == 0)
		r = read_series(new_tree, &cur, &ncur);
	if (r == 0)
		r = read_changelog(new_tree, old_version, &bullets, &nbullets);
	for (size_t i = 0; r == 0 && i < ncur; i++) {
		char dir[PATH_MAX * 2];

		switch (how_new(old_tree, new_tree, old, nold, cur[i])) {
		case PATCH_ADDED:
			r = add_fix(&fl, new_tree, cur[i]);
			break;
		case PATCH_CHANGED:
			if (!cumulative(bullets, nbullets, cur[i])) {
				r = add_fix(&fl, new_tree, cur[i]);
				break;
			}
			snprintf(dir, sizeof(dir), "%s/%zu", workdir, i);
			r = fixsplit(&fl, old_tree, new_tree, cur[i], dir);
			break;
		case PATCH_SAME:
			break;
		}
	}
	for (size_t i = 0; r == 0 && i < nbullets; i++)
		take_bullet(&fl, new_tree, bullets[i]);
	if (r == 0)
		r = upstream_release(&fl, old_tree, new_tree, old_version, workdir, bullets,
				     nbullets);
	strv_free_n(bullets, nbullets);
	strv_free_n(old, nold);
	strv_free_n(cur, ncur);
	if (r < 0) {
		fixlist_free(&fl);
		return r;
	}
	*ret = fl;
	return 0;
}
