/* SPDX-License-Identifier: MIT */
/*
 * A patch the newer version changed rather than added is, in Debian, most
 * often a cumulative update: glibc's git-updates.diff carries every fix of
 * the upstream stable branch, and one release of it adds ten of them in
 * twenty files. As one fix it would stand or fall whole (one struct layout
 * change anywhere refuses all the rest), so it is split into one fix per
 * source file it changes, each with the two versions' difference of that
 * file as its diff. The changelog lists the upstream fixes as sub-items of
 * the patch's entry; a sub-item's CVE ids go to the files whose functions,
 * or whose own name, it names.
 */
#include "fixsplit.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"
#include "fileio.h"
#include "macro.h"
#include "runcmd.h"

static bool has_file(char **v, size_t n, const char *file)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(v[i], file) == 0)
			return true;
	return false;
}

static bool in_either(const char *old_tree, const char *new_tree, const char *file)
{
	char path[PATH_MAX * 2];

	snprintf(path, sizeof(path), "%s/%s", old_tree, file);
	if (access(path, F_OK) == 0)
		return true;
	snprintf(path, sizeof(path), "%s/%s", new_tree, file);
	return access(path, F_OK) == 0;
}

/* A patch's path as a path in the trees: quilt applies with -p1, so the
 * first component goes whatever it is ("libxml2-2.9.14/HTMLparser.c"), not
 * only a/ and b/, which diffparse.c takes off. */
static const char *tree_file(const char *old_tree, const char *new_tree, const char *file)
{
	const char *rest = strchr(file, '/');

	if (in_either(old_tree, new_tree, file) || !rest || !in_either(old_tree, new_tree, rest + 1))
		return file;
	return rest + 1;
}

/* The files either version of the patch changes (each once). */
static int patch_files(const char *old_tree, const char *new_tree, const struct diff_info *a,
		       const struct diff_info *b, char ***ret, size_t *ret_n)
{
	const struct diff_info *both[] = {a, b};
	char **v = NULL;
	size_t n = 0;

	for (size_t k = 0; k < 2; k++)
		for (size_t h = 0; h < both[k]->nhunks; h++) {
			const char *f = tree_file(old_tree, new_tree, both[k]->hunks[h].file);
			char **nv;

			/* a deleted file's hunks name no file on the new side */
			if (has_file(v, n, f) || strstr(f, "dev/null"))
				continue;
			nv = realloc(v, (n + 1) * sizeof(*nv));
			if (!nv || !(nv[n] = strdup(f))) {
				free(nv ? nv : v);
				return hp_err(-ENOMEM, "out of memory");
			}
			v = nv;
			n++;
		}
	*ret = v;
	*ret_n = n;
	return 0;
}

/* The difference of one file between the trees, written to @out; 1 when
 * there is one, 0 when the file is the same in both. */
static int file_diff(const char *old_tree, const char *new_tree, const char *file,
		     const char *out)
{
	char a[PATH_MAX * 2], b[PATH_MAX * 2], la[PATH_MAX], lb[PATH_MAX];
	char script[PATH_MAX * 6];
	struct stat st;
	int r;

	snprintf(a, sizeof(a), "%s/%s", old_tree, file);
	snprintf(b, sizeof(b), "%s/%s", new_tree, file);
	snprintf(la, sizeof(la), "a/%s", file);
	snprintf(lb, sizeof(lb), "b/%s", file);
	/* diff exits 1 when the files differ: that is the case we want */
	snprintf(script, sizeof(script),
		 "diff -upN --label '%s' --label '%s' '%s' '%s' > '%s'; test $? -le 1", la, lb, a,
		 b, out);
	r = runcmd((char *[]){"sh", "-c", script, NULL}, NULL);
	if (r < 0)
		return hp_err(r, "cannot diff %s between the two versions", file);
	if (stat(out, &st) < 0)
		return hp_err(-errno, "%s: %m", out);
	if (st.st_size)
		return 1;
	unlink(out);
	return 0;
}

static int add_part(struct fixlist *fl, const char *whole, const char *file, const char *path)
{
	_cleanup_free_ char *name = NULL;

	if (asprintf(&name, "%s: %s", whole, file) < 0)
		return hp_err(-ENOMEM, "out of memory");
	return fixlist_add(fl, name, path, file, whole);
}

int fixsplit_file(struct fixlist *fl, const char *old_tree, const char *new_tree,
		  const char *whole, const char *file, const char *out)
{
	int r = file_diff(old_tree, new_tree, file, out);

	return r == 1 ? add_part(fl, whole, file, out) : r;
}

int fixsplit(struct fixlist *fl, const char *old_tree, const char *new_tree, const char *name,
	     const char *workdir)
{
	char old[PATH_MAX * 2], cur[PATH_MAX * 2], out[PATH_MAX * 2];
	struct diff_info was = {0}, now = {0};
	char **files = NULL;
	size_t nfiles = 0, before = fl->n;
	int r;

	snprintf(old, sizeof(old), "%s/debian/patches/%s", old_tree, name);
	snprintf(cur, sizeof(cur), "%s/debian/patches/%s", new_tree, name);
	r = diffparse(old, &was);
	if (r == 0)
		r = diffparse(cur, &now);
	if (r == 0)
		r = patch_files(old_tree, new_tree, &was, &now, &files, &nfiles);
	if (r == 0)
		r = mkdir_p(workdir, 0755);
	for (size_t i = 0; r >= 0 && i < nfiles; i++) {
		snprintf(out, sizeof(out), "%s/%zu.diff", workdir, fl->n - before);
		r = fixsplit_file(fl, old_tree, new_tree, name, files[i], out);
	}
	for (size_t i = 0; i < nfiles; i++)
		free(files[i]);
	free(files);
	diffparse_free(&was);
	diffparse_free(&now);
	return r < 0 ? hp_err_prefix(r, "splitting %s by file: ", name) : 0;
}

/* A function name as a changelog says it: without an NSS module's prefix
 * (_nss_dns_gethostbyaddr2_r) or a reentrant suffix. Leading underscores
 * stay: glibc's __overflow is not the "overflow" of a sentence. */
static void plain_name(const char *name, char *ret, size_t len)
{
	size_t n;

	if (strncmp(name, "_nss_", 5) == 0 && strchr(name + 5, '_'))
		name = strchr(name + 5, '_') + 1;
	n = strlen(name);
	if (n > 2 && strcmp(name + n - 2, "_r") == 0)
		n -= 2;
	while (n > 1 && isdigit((unsigned char)name[n - 1]))
		n--;
	snprintf(ret, len, "%.*s", (int)n, name);
}

/* The '(' after a function's name on line @l, past any
 * __attribute__((...)) before it ("__attribute__((noinline)) int f(int n)"). */
static char *first_call_paren(char *l)
{
	char *p = strchr(l, '(');

	while (p && p - l >= 13 && strncmp(p - 13, "__attribute__", 13) == 0) {
		int depth = 0;

		for (; *p; p++) {
			depth += (*p == '(') - (*p == ')');
			if (depth == 0)
				break;
		}
		p = *p ? strchr(p, '(') : NULL;
	}
	return p;
}

/* The functions the newer version of @file defines, plain-named, one per
 * line: the identifier before the first '(' of each line that starts in
 * column 0 and is not a declaration, a directive or a comment. */
static char *defined_functions(const char *new_tree, const char *file)
{
	char path[PATH_MAX * 2];
	_cleanup_free_ uint8_t *data = NULL;
	struct buf out = {0};
	char *save = NULL;
	size_t len;

	snprintf(path, sizeof(path), "%s/%s", new_tree, file);
	if (file_read_all(path, 1 << 26, &data, &len) < 0)
		return NULL;
	for (char *l = strtok_r((char *)data, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		char *paren = first_call_paren(l), *e, name[256], plain[256];
		size_t n;

		if (!paren || !(isalpha((unsigned char)l[0]) || l[0] == '_') ||
		    l[strlen(l) - 1] == ';')
			continue;
		e = paren;
		while (e > l && e[-1] == ' ')
			e--;
		n = 0;
		while (e - n > l && (isalnum((unsigned char)e[-1 - (ssize_t)n]) ||
				     e[-1 - (ssize_t)n] == '_'))
			n++;
		if (n < 2 || n >= sizeof(name))
			continue;
		snprintf(name, sizeof(name), "%.*s", (int)n, e - n);
		plain_name(name, plain, sizeof(plain));
		buf_printf(&out, "\n%s\n", plain);
	}
	return buf_cstr(&out) ? (char *)out.data : (buf_free(&out), NULL);
}

/*
 * Does a changelog sub-item name this part? When a word of it (five
 * letters or more) is a function the file defines, as changelogs name them
 * ("getnetbyaddr" for _nss_dns_getnetbyaddr_r, "_int_memalign"), or is the
 * file's own name ("wordexp" for posix/wordexp.c). Nothing looser: a loose
 * match ("assertion" for assert.c) would give a CVE id to a part that does
 * not fix it (glibc's CVE-2026-4046 is "an assertion failure" in iconv).
 */
static bool item_names(const char *item, const struct fix *f, const char *defined)
{
	const char *base = strrchr(f->file, '/') ? strrchr(f->file, '/') + 1 : f->file;
	size_t stem = strcspn(base, ".");

	for (const char *p = item; *p;) {
		char word[128], plain[128], key[132];
		size_t n = 0;

		while (*p && !(isalnum((unsigned char)*p) || *p == '_'))
			p++;
		while ((isalnum((unsigned char)*p) || *p == '_') && n < sizeof(word) - 1)
			word[n++] = *p++;
		word[n] = 0;
		while (isalnum((unsigned char)*p) || *p == '_')
			p++;
		if (n < 5)
			continue;
		if (n == stem && strncmp(word, base, stem) == 0)
			return true;
		plain_name(word, plain, sizeof(plain));
		snprintf(key, sizeof(key), "\n%s\n", plain);
		if (defined && strstr(defined, key))
			return true;
	}
	return false;
}

/* One sub-item ("    - Fix ... (CVE-...)") of a bullet that names @whole. */
static void take_item(struct fixlist *fl, const char *whole, struct buf *item, char **defined)
{
	const char *text = buf_cstr(item);

	if (!text || !*text)
		return;
	for (size_t i = 0; i < fl->n; i++)
		if (fl->v[i].whole && strcmp(fl->v[i].whole, whole) == 0 &&
		    item_names(text, &fl->v[i], defined[i]))
			diffparse_add_cves(&fl->v[i].diff, text);
	item->len = 0;
}

void fixsplit_bullet(struct fixlist *fl, const char *new_tree, const char *whole,
		     const char *bullet)
{
	_cleanup_free_ char *copy = strdup(bullet);
	char **defined = calloc(fl->n + 1, sizeof(*defined));
	struct buf item = {0};
	char *save = NULL;

	if (!copy || !defined) {
		free(defined);
		return;
	}
	for (size_t i = 0; i < fl->n; i++)
		if (fl->v[i].whole && strcmp(fl->v[i].whole, whole) == 0)
			defined[i] = defined_functions(new_tree, fl->v[i].file);
	for (char *l = strtok_r(copy, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		const char *t = l + strspn(l, " ");

		/* a sub-item starts with "- " deeper than the bullet's "* " */
		if (t - l > 2 && strncmp(t, "- ", 2) == 0)
			take_item(fl, whole, &item, defined);
		if (t - l > 2)
			buf_printf(&item, "%s\n", t);
	}
	take_item(fl, whole, &item, defined);
	for (size_t i = 0; i < fl->n; i++)
		free(defined[i]);
	free(defined);
	buf_free(&item);
}

/* Of the identifiers @ids (newline-separated), those the tree at @tree has
 * nowhere in its C and assembly sources: what a part brings in new. */
static char *absent_from(const char *tree, const char *ids, const char *workdir)
{
	char list[PATH_MAX], found[PATH_MAX], script[PATH_MAX * 4];
	_cleanup_free_ uint8_t *have = NULL;
	struct buf out = {0}, known = {0};
	size_t len;
	char *save = NULL, *copy;

	snprintf(list, sizeof(list), "%s/ids", workdir);
	snprintf(found, sizeof(found), "%s/ids.found", workdir);
	if (file_write_atomic(list, ids + 1, strlen(ids + 1), 0644) < 0)
		return NULL;
	snprintf(script, sizeof(script),
		 "grep -rhowF -f '%s' --include='*.[chS]' '%s' | sort -u > '%s'; true", list,
		 tree, found);
	if (runcmd((char *[]){"sh", "-c", script, NULL}, NULL) < 0 ||
	    file_read_all(found, 1 << 24, &have, &len) < 0)
		return NULL;
	copy = strdup(ids);
	buf_printf(&out, "\n");
	buf_printf(&known, "\n");
	buf_put(&known, have, len);
	for (char *l = copy && buf_cstr(&known) ? strtok_r(copy, "\n", &save) : NULL; l;
	     l = strtok_r(NULL, "\n", &save)) {
		char key[132];

		snprintf(key, sizeof(key), "\n%s\n", l);
		if (!strstr((char *)known.data, key))
			buf_printf(&out, "%s\n", l);
	}
	free(copy);
	buf_free(&known);
	return out.len > 1 ? (char *)out.data : (buf_free(&out), NULL);
}

/* The added lines of a part's diff, as they are. */
static char *added_lines(const struct fix *f)
{
	_cleanup_free_ uint8_t *data = NULL;
	struct buf out = {0};
	char *save = NULL;
	size_t len;

	if (file_read_all(f->path, 1 << 24, &data, &len) < 0)
		return NULL;
	for (char *l = strtok_r((char *)data, "\n", &save); l; l = strtok_r(NULL, "\n", &save))
		if (l[0] == '+' && l[1] != '+')
			buf_printf(&out, "%s\n", l + 1);
	return buf_cstr(&out) ? (char *)out.data : (buf_free(&out), NULL);
}

/* The identifiers of @text (four characters or more), each once, one per
 * line with a newline before the first. */
static char *identifiers(const char *text)
{
	struct buf out = {0};

	buf_printf(&out, "\n");
	for (const char *p = text; p && *p;) {
		char key[132];
		size_t n = 0;

		while (*p && !(isalpha((unsigned char)*p) || *p == '_'))
			p++;
		while (isalnum((unsigned char)p[n]) || p[n] == '_')
			n++;
		if (n >= 4 && n < 128) {
			snprintf(key, sizeof(key), "\n%.*s\n", (int)n, p);
			if (!strstr((char *)out.data, key))
				buf_printf(&out, "%.*s\n", (int)n, p);
		}
		p += n;
	}
	return buf_cstr(&out) ? (char *)out.data : (buf_free(&out), NULL);
}

/* The first of @ids (newline-separated, one before the first) that part
 * @f's added lines use, or false: an identifier as a whole word, a file's
 * name (dl-rseq-symbols, in a Makefile) anywhere. */
static bool uses_any(const struct fix *f, const char *ids, char *ret, size_t len)
{
	_cleanup_free_ char *text = added_lines(f);
	_cleanup_free_ char *mine = identifiers(text);

	for (const char *p = ids + 1; mine && *p;) {
		size_t n = strcspn(p, "\n");
		char key[132];

		snprintf(key, sizeof(key), "\n%.*s\n", (int)n, p);
		if (n < 128 && (strstr(mine, key) ||
				(strpbrk(key + 1, "-.") && text && memmem(text, strlen(text), p, n)))) {
			snprintf(ret, len, "%.*s", (int)n, p);
			return true;
		}
		p += n + (p[n] == '\n');
	}
	return false;
}

/* A part that creates its file brings the file's name too (without its
 * extension, as a Makefile names an object). */
static char *with_new_file(char *ids, const char *old_tree, const char *file)
{
	char path[PATH_MAX * 2], stem[256];
	const char *base = strrchr(file, '/') ? strrchr(file, '/') + 1 : file;
	struct buf out = {0};

	snprintf(path, sizeof(path), "%s/%s", old_tree, file);
	if (access(path, F_OK) == 0)
		return ids;
	snprintf(stem, sizeof(stem), "%.*s", (int)strcspn(base, "."), base);
	buf_printf(&out, "%s%s\n", ids ? ids : "\n", stem);
	free(ids);
	return buf_cstr(&out) ? (char *)out.data : (buf_free(&out), NULL);
}

bool fixsplit_is_notes(const char *file)
{
	static const char *const names[] = {"news", "changes", "changelog", "release"};
	const char *base = strrchr(file, '/') ? strrchr(file, '/') + 1 : file;

	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		if (strncasecmp(base, names[i], strlen(names[i])) == 0)
			return true;
	return false;
}

size_t fixsplit_dependents(struct fixlist *fl, const char *old_tree, const char *workdir)
{
	size_t added = 0;
	bool again = true;

	if (mkdir_p(workdir, 0755) < 0)
		return 0;
	while (again) {
		again = false;
		for (size_t i = 0; i < fl->n; i++) {
			const struct fix *r = &fl->v[i];
			_cleanup_free_ char *text = NULL, *ids = NULL, *fresh = NULL;

			if (r->verdict != FIX_REFUSED || !r->file || r->dependents_done)
				continue;
			fl->v[i].dependents_done = true;
			text = added_lines(r);
			ids = identifiers(text);
			fresh = ids ? absent_from(old_tree, ids, workdir) : NULL;
			fresh = with_new_file(fresh, old_tree, r->file);
			for (size_t k = 0; fresh && k < fl->n; k++) {
				struct fix *f = &fl->v[k];
				char id[128];

				_cleanup_free_ char *why = NULL;

				/* release notes name what they do not use */
				if (f->verdict == FIX_REFUSED || !f->file || fixsplit_is_notes(f->file) ||
				    !uses_any(f, fresh, id, sizeof(id)))
					continue;
				if (asprintf(&why, "it uses %s, which %s brings and which is refused", id,
					     fl->v[i].name) < 0)
					why = NULL;
				fix_refuse(f, why ? why : "it uses what a refused part brings");
				added++;
				again = true;
			}
		}
	}
	return added;
}
