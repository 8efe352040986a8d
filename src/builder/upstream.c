/* SPDX-License-Identifier: MIT */
#include "upstream.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "debpkg.h"
#include "error.h"
#include "fileio.h"
#include "fixsplit.h"
#include "macro.h"
#include "runcmd.h"

/* The version of the top entry of @tree's debian/changelog, or NULL. */
static char *top_version(const char *tree)
{
	char path[PATH_MAX + 32], ver[256];
	_cleanup_free_ uint8_t *data = NULL;
	size_t len;

	snprintf(path, sizeof(path), "%s/debian/changelog", tree);
	if (file_read_all(path, 1 << 24, &data, &len) < 0 ||
	    sscanf((char *)data, "%*s (%255[^)])", ver) != 1)
		return NULL;
	return strdup(ver);
}

char *upstream_newer(const char *new_tree, const char *old_version)
{
	_cleanup_free_ char *top = top_version(new_tree);
	_cleanup_free_ char *was = debver_upstream(old_version);
	char *now = top ? debver_upstream(top) : NULL;

	hp_err_clear();
	if (now && was && strcmp(now, was) != 0)
		return now;
	free(now);
	return NULL;
}

static bool has_part(const struct fixlist *fl, const char *file)
{
	for (size_t i = 0; i < fl->n; i++)
		if (fl->v[i].file && strcmp(fl->v[i].file, file) == 0)
			return true;
	return false;
}

/* The files the trees differ in, one per line ("Files A/x and B/x differ"
 * from diff -rqN: a file only one side has is compared with an empty one). */
static int differing(const char *old_tree, const char *new_tree, const char *workdir,
		     char **ret)
{
	char list[PATH_MAX], script[PATH_MAX * 4];
	_cleanup_free_ uint8_t *data = NULL;
	size_t len;
	int r = mkdir_p(workdir, 0755);

	snprintf(list, sizeof(list), "%s/files", workdir);
	snprintf(script, sizeof(script),
		 "LC_ALL=C diff -rqN -x debian -x .pc '%s' '%s' > '%s'; test $? -le 1", old_tree,
		 new_tree, list);
	if (r == 0)
		r = runcmd((char *[]){"sh", "-c", script, NULL}, NULL);
	if (r == 0)
		r = file_read_all(list, 1 << 26, &data, &len);
	if (r < 0)
		return hp_err_prefix(r, "comparing the two versions' trees: ");
	*ret = (char *)data;
	data = NULL;
	return 0;
}

int upstream_split(struct fixlist *fl, const char *old_tree, const char *new_tree,
		   const char *whole, const char *workdir)
{
	_cleanup_free_ char *files = NULL;
	size_t skip = strlen("Files ") + strlen(old_tree) + 1, before = fl->n;
	char *save = NULL;
	int r = differing(old_tree, new_tree, workdir, &files);

	for (char *l = r == 0 ? strtok_r(files, "\n", &save) : NULL; r >= 0 && l;
	     l = strtok_r(NULL, "\n", &save)) {
		char out[PATH_MAX * 2], *and;
		const char *file = l + skip;

		if (strncmp(l, "Files ", 6) != 0 || strlen(l) <= skip || !(and = strstr(file, " and ")))
			continue;
		*and = '\0';
		if (has_part(fl, file))
			continue;
		snprintf(out, sizeof(out), "%s/%zu.diff", workdir, fl->n - before);
		r = fixsplit_file(fl, old_tree, new_tree, whole, file, out);
	}
	return r < 0 ? hp_err_prefix(r, "splitting %s by file: ", whole) : 0;
}

/* Does a changelog bullet name a fix of @fl (a patch by its file name)? */
static bool names_a_patch(const struct fixlist *fl, const char *bullet)
{
	for (size_t i = 0; i < fl->n; i++) {
		const char *name = fl->v[i].whole ? fl->v[i].whole : fl->v[i].name;

		if (strstr(bullet, name))
			return true;
	}
	return false;
}

static size_t count_cves(const char *s, size_t n)
{
	size_t c = 0;

	for (const char *p = s; (p = memmem(p, n - (size_t)(p - s), "CVE-", 4)); p += 4)
		c++;
	return c;
}

/* One item to the parts, in the form fixsplit_bullet() reads. */
static void give_item(struct fixlist *fl, const char *new_tree, const char *whole,
		      const char *text, size_t n)
{
	struct buf b = {0};

	buf_printf(&b, "  * %s:\n    - ", whole);
	for (size_t i = 0; i < n; i++)
		buf_put(&b, text[i] == '\n' ? " " : &text[i], 1);
	buf_put(&b, "\n", 1);
	if (buf_cstr(&b))
		fixsplit_bullet(fl, new_tree, whole, (const char *)b.data);
	buf_free(&b);
}

/*
 * @text's sentences (ended by ". ", ";" or a line that starts a new item),
 * each with its CVE ids, to the parts it names. A sentence holding several
 * ids ("fixes CVE-1 in parse_len and CVE-2 in name_ok") is cut before each.
 */
static void give_sentences(struct fixlist *fl, const char *new_tree, const char *whole,
			   const char *text)
{
	const char *p = text;

	while (*p) {
		size_t n = 0;

		while (p[n] && !(p[n] == ';' || (p[n] == '.' && isspace((unsigned char)p[n + 1])) ||
				 (p[n] == '\n' && strchr("-*+o", p[n + 1 + strspn(p + n + 1, " \t")]))))
			n++;
		if (count_cves(p, n) > 1) {
			const char *c = memmem(p + 4, n - 4, "CVE-", 4), *start = p;

			for (; c; c = memmem(c + 4, n - (size_t)(c + 4 - p), "CVE-", 4)) {
				give_item(fl, new_tree, whole, start, (size_t)(c - start));
				start = c;
			}
			give_item(fl, new_tree, whole, start, (size_t)(p + n - start));
		} else if (count_cves(p, n)) {
			give_item(fl, new_tree, whole, p, n);
		}
		p += n + (p[n] != '\0');
	}
}

/* The lines the part's diff adds. */
static char *added_text(const struct fix *f)
{
	_cleanup_free_ uint8_t *data = NULL;
	struct buf out = {0};
	char *save = NULL;
	size_t len;

	if (file_read_all(f->path, 1 << 24, &data, &len) < 0)
		return NULL;
	for (char *l = strtok_r((char *)data, "\n", &save); l; l = strtok_r(NULL, "\n", &save))
		if (l[0] == '+' && strncmp(l, "+++ ", 4) != 0)
			buf_printf(&out, "%s\n", l + 1);
	return buf_cstr(&out) ? (char *)out.data : (buf_free(&out), NULL);
}

void upstream_cves(struct fixlist *fl, const char *new_tree, const char *whole, char **bullets,
		   size_t nbullets)
{
	size_t n = fl->n;

	for (size_t i = 0; i < nbullets; i++)
		if (!names_a_patch(fl, bullets[i]))
			give_sentences(fl, new_tree, whole, bullets[i]);
	for (size_t i = 0; i < n; i++) {
		_cleanup_free_ char *text = NULL;

		if (!fl->v[i].whole || strcmp(fl->v[i].whole, whole) != 0 ||
		    !fixsplit_is_notes(fl->v[i].file))
			continue;
		text = added_text(&fl->v[i]);
		if (text)
			give_sentences(fl, new_tree, whole, text);
		hp_err_clear();
	}
	/* the notes name fixes; they fix nothing themselves */
	for (size_t i = 0; i < fl->n; i++) {
		struct diff_info *d = &fl->v[i].diff;

		if (!fl->v[i].whole || strcmp(fl->v[i].whole, whole) != 0 ||
		    !fixsplit_is_notes(fl->v[i].file))
			continue;
		for (size_t k = 0; k < d->ncves; k++)
			free(d->cves[k]);
		d->ncves = 0;
	}
}
