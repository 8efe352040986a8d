/* SPDX-License-Identifier: MIT */
#include "diffparse.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "macro.h"
#include "symtab.h"

void diffparse_free(struct diff_info *d)
{
	for (size_t i = 0; i < d->nhunks; i++)
		free(d->hunks[i].file);
	free(d->hunks);
	for (size_t i = 0; i < d->ncves; i++)
		free(d->cves[i]);
	free(d->cves);
	free(d->description);
	*d = (struct diff_info){0};
}

static int add_cve(struct diff_info *d, const char *p, size_t n)
{
	char **nv;

	for (size_t i = 0; i < d->ncves; i++)
		if (strlen(d->cves[i]) == n && strncmp(d->cves[i], p, n) == 0)
			return 0;
	nv = realloc(d->cves, (d->ncves + 1) * sizeof(*nv));
	if (!nv)
		return -ENOMEM;
	d->cves = nv;
	nv[d->ncves] = strndup(p, n);
	return nv[d->ncves++] ? 0 : -ENOMEM;
}

/* CVE-YYYY-NNNN(N...) anywhere in @s. */
static int scan_cves(struct diff_info *d, const char *s)
{
	for (const char *p = s; (p = strstr(p, "CVE-")); p += 4) {
		size_t n = 4;

		if (!(isdigit((unsigned char)p[4]) && isdigit((unsigned char)p[5]) &&
		      isdigit((unsigned char)p[6]) && isdigit((unsigned char)p[7]) && p[8] == '-'))
			continue;
		n = 9;
		while (isdigit((unsigned char)p[n]))
			n++;
		if (n >= 13 && add_cve(d, p, n) < 0)
			return -ENOMEM;
	}
	return 0;
}

static char *strip_prefix(const char *path)
{
	const char *p = path;
	size_t n;

	if ((p[0] == 'a' || p[0] == 'b') && p[1] == '/')
		p += 2;
	n = strcspn(p, "\t\n");
	return strndup(p, n);
}

static int add_hunk(struct diff_info *d, const char *file, unsigned old_first,
		    unsigned old_count, unsigned first, unsigned count)
{
	struct diff_hunk *nv = realloc(d->hunks, (d->nhunks + 1) * sizeof(*nv));

	if (!nv)
		return -ENOMEM;
	d->hunks = nv;
	nv[d->nhunks] = (struct diff_hunk){.file = strdup(file), .first = first,
					   .last = count ? first + count - 1 : first,
					   .old_first = old_first, .old_count = old_count,
					   .new_count = count};
	return nv[d->nhunks++].file ? 0 : -ENOMEM;
}

/*
 * Does C source line @s hold code, once comments are taken out? @in_comment
 * carries a block comment from one line to the next (each side of a hunk
 * has its own: a removed line's comment is not the added one's). A line
 * inside a comment that opened above the hunk starts with "* " or "*", as C
 * comments are written; one that does not is taken for code.
 */
static bool line_has_code(const char *s, bool *in_comment)
{
	const char *t = s + strspn(s, " \t");
	bool code = false;

	/* A comment's continuation line: " * words", " *", or "**". A '*'
	 * followed by anything else is code (a store through a pointer). */
	if (!*in_comment && t[0] == '*' &&
	    (t[1] == ' ' || t[1] == '\t' || t[1] == '\n' || t[1] == '\0' || t[1] == '*'))
		*in_comment = true;
	else if (!*in_comment && strncmp(t, "#include", 8) == 0)
		return false;
	for (const char *p = s; *p && *p != '\n'; p++) {
		if (*in_comment) {
			if (p[0] == '*' && p[1] == '/') {
				*in_comment = false;
				p++;
			}
			continue;
		}
		if (p[0] == '/' && p[1] == '*') {
			*in_comment = true;
			p++;
		} else if (p[0] == '/' && p[1] == '/') {
			break;
		} else if (p[0] == '"' || p[0] == '\'') {
			char q = *p;

			code = true;
			for (p++; *p && *p != q && *p != '\n'; p++)
				p += p[0] == '\\' && p[1];
			if (!*p || *p == '\n')
				break;
		} else if (!isspace((unsigned char)*p)) {
			code = true;
		}
	}
	return code;
}

/* Where parse_lines() is in a hunk's body: the lines left on each side,
 * each side's block comment state, and the changed lines of a statement
 * not ended yet (a prototype may span lines). */
struct body {
	unsigned old_left, new_left;
	bool old_comment, new_comment;
	char stmt[1024];
	size_t stmt_len;
	bool stmt_long;
};

/*
 * Is @s, a statement of changed lines ending in ';', a function's
 * declaration, which is no code ("static int f(struct x *);", as a fix
 * adds above the function it then calls)? There is a type before the
 * name, no body, no initializer, no string, and it is not a call
 * ("f(x);", "return f(x);") nor a function pointer variable
 * ("static void (*cb)(int);", data).
 */
static bool is_prototype(const char *s)
{
	static const char *const stmt_words[] = {"return", "if", "while", "for", "switch",
						 "do", "else", "goto", "case", "sizeof"};
	const char *paren = strchr(s, '(');
	const char *t = s + strspn(s, " \t");
	size_t words = 0;

	if (!paren || strpbrk(s, "{}=\"'") || paren[1 + strspn(paren + 1, " \t")] == '*')
		return false;
	for (size_t i = 0; i < ARRAY_SIZE(stmt_words); i++) {
		size_t n = strlen(stmt_words[i]);

		if (strncmp(t, stmt_words[i], n) == 0 && !isalnum((unsigned char)t[n]) &&
		    t[n] != '_')
			return false;
	}
	for (const char *p = t; p < paren;) {
		size_t n = strcspn(p, " \t*(");

		words += n > 0;
		p += n;
		p += strspn(p, " \t*");
	}
	return words >= 2;
}

/* Gathers a changed line @line holding code into the statement under way;
 * returns whether that statement is code: false while it may still turn
 * out a prototype, and for one that does. A line's own comment is left
 * out. */
static bool stmt_is_code(struct body *b, const char *line)
{
	size_t n = strcspn(line, "\n");
	const char *c = strstr(line, "/*"), *cc = strstr(line, "//");

	if (c && (size_t)(c - line) < n)
		n = (size_t)(c - line);
	if (cc && (size_t)(cc - line) < n)
		n = (size_t)(cc - line);
	if (b->stmt_long || b->stmt_len + n + 2 > sizeof(b->stmt)) {
		b->stmt_long = true;
		return true;
	}
	memcpy(b->stmt + b->stmt_len, line, n);
	b->stmt_len += n;
	b->stmt[b->stmt_len++] = ' ';
	b->stmt[b->stmt_len] = 0;
	while (n && isspace((unsigned char)line[n - 1]))
		n--;
	if (!n || line[n - 1] != ';')
		return false; /* judged when it ends */
	b->stmt_len = 0;
	return !is_prototype(b->stmt);
}

/* One line of a hunk's body: does the last hunk change code? The counts
 * end the body, so the next file's "--- a/x" is not a removed line. */
static void hunk_line(struct diff_info *d, const char *line, struct body *b)
{
	bool code;

	if (!d->nhunks || (!b->old_left && !b->new_left))
		return;
	switch (line[0]) {
	case ' ':
		line_has_code(line + 1, &b->old_comment);
		line_has_code(line + 1, &b->new_comment);
		b->old_left -= b->old_left > 0;
		b->new_left -= b->new_left > 0;
		code = false;
		break;
	case '-':
		code = line_has_code(line + 1, &b->old_comment);
		b->old_left -= b->old_left > 0;
		break;
	case '+':
		code = line_has_code(line + 1, &b->new_comment);
		b->new_left -= b->new_left > 0;
		break;
	default:
		return;
	}
	if (code)
		code = stmt_is_code(b, line + 1);
	/* a statement the hunk leaves unended is taken for code */
	if (!b->old_left && !b->new_left && (b->stmt_len || b->stmt_long))
		code = true;
	d->hunks[d->nhunks - 1].code |= code;
}

static void take_description(struct diff_info *d, const char *line)
{
	static const char *const keys[] = {"Subject:", "Description:"};
	const char *v = NULL;

	for (size_t i = 0; i < ARRAY_SIZE(keys) && !v; i++)
		if (strncmp(line, keys[i], strlen(keys[i])) == 0)
			v = line + strlen(keys[i]);
	if (!v)
		return;
	v += strspn(v, " \t");
	if (strncmp(v, "[PATCH", 6) == 0 && strchr(v, ']'))
		v = strchr(v, ']') + 1 + strspn(strchr(v, ']') + 1, " ");
	free(d->description);
	d->description = strndup(v, strcspn(v, "\n"));
}

static int parse_lines(FILE *f, struct diff_info *d)
{
	_cleanup_free_ char *line = NULL, *file = NULL;
	bool in_header = true;
	struct body body = {0};
	size_t cap = 0;
	int r = 0;

	while (r == 0 && getline(&line, &cap, f) > 0) {
		unsigned old_first, old_count = 1, first, count = 1;

		if (strncmp(line, "+++ ", 4) == 0 && !body.old_left && !body.new_left) {
			in_header = false;
			free(file);
			file = strip_prefix(line + 4);
			continue;
		}
		if (in_header) {
			if (!d->description)
				take_description(d, line);
			r = scan_cves(d, line);
			continue;
		}
		if (file && strncmp(line, "@@ ", 3) == 0 && !body.old_left && !body.new_left) {
			if (sscanf(line, "@@ -%u,%u +%u,%u", &old_first, &old_count, &first,
				   &count) >= 3)
				r = add_hunk(d, file, old_first, old_count, first, count);
			else if (sscanf(line, "@@ -%u +%u,%u", &old_first, &first, &count) >= 2)
				r = add_hunk(d, file, old_first, 1, first, count);
			else
				continue;
			body = (struct body){.old_left = old_count, .new_left = count};
		} else if (file) {
			hunk_line(d, line, &body);
		}
	}
	return r;
}

int diffparse(const char *path, struct diff_info *ret)
{
	struct diff_info d = {0};
	FILE *f = fopen(path, "re");
	int r;

	if (!f)
		return hp_err(-errno, "cannot read %s: %m", path);
	r = parse_lines(f, &d);
	fclose(f);
	if (r == 0)
		r = scan_cves(&d, path); /* debian/patches/CVE-2024-1234.patch */
	if (r == 0 && !d.nhunks)
		r = hp_err(-EINVAL, "%s is not a unified diff (no hunks)", path);
	if (r < 0) {
		diffparse_free(&d);
		return r == -ENOMEM ? hp_err(r, "out of memory") : r;
	}
	*ret = d;
	return 0;
}

bool diff_touches(const struct diff_info *d, const char *file, unsigned first, unsigned last)
{
	for (size_t i = 0; i < d->nhunks; i++)
		if (symtab_file_matches(d->hunks[i].file, file) && d->hunks[i].first <= last &&
		    first <= d->hunks[i].last)
			return true;
	return false;
}

int diffparse_add_cves(struct diff_info *d, const char *text)
{
	return scan_cves(d, text);
}

/* Where line @old of @file lands in the fixed file: shifted by every hunk
 * of that file above it; 0 when a hunk covers it (it may have changed). */
static unsigned moved_line(const struct diff_info *d, const char *file, unsigned old)
{
	long shift = 0;

	for (size_t i = 0; i < d->nhunks; i++) {
		const struct diff_hunk *h = &d->hunks[i];

		if (strcmp(h->file, file) != 0)
			continue;
		if (old >= h->old_first && old < h->old_first + h->old_count)
			return 0;
		/* Past the hunk (for "-N,0", which adds after line N: past N). */
		if (old > h->old_first)
			shift += (long)h->new_count - (long)h->old_count;
	}
	return (unsigned)((long)old + shift);
}

bool diff_moves_line(const struct diff_info *d, unsigned old, unsigned moved)
{
	if (old == moved || !old)
		return false;
	for (size_t i = 0; i < d->nhunks; i++)
		if (moved_line(d, d->hunks[i].file, old) == moved)
			return true;
	return false;
}
