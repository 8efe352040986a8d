/* SPDX-License-Identifier: MIT */
#include "fixlist.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "debpkg.h"
#include "error.h"
#include "fileio.h"
#include "macro.h"
#include "srctree.h"

static const char *const verdict_names[] = {
	[FIX_IN_PATCH] = "in the live patch",
	[FIX_REFUSED] = "refused",
	[FIX_NOT_IN_FILE] = "not in this file",
	[FIX_NO_CODE] = "no code change in this file",
	[FIX_IN_PART] = "in the live patch only in part, so not counted as live",
};

/* The words info --json and the survey use. */
static const char *const verdict_words[] = {
	[FIX_IN_PATCH] = "live",
	[FIX_REFUSED] = "refused",
	[FIX_NOT_IN_FILE] = "not-in-file",
	[FIX_NO_CODE] = "no-code-change",
	[FIX_IN_PART] = "in-part",
};

int fixlist_verdicts(const struct fixlist *fl, struct verdict *out)
{
	int r = 0;

	for (size_t i = 0; r == 0 && i < fl->n; i++) {
		const struct fix *f = &fl->v[i];

		r = verdict_add_fix(out, f->name, f->diff.cves, f->diff.ncves,
				    verdict_words[f->verdict], f->reason);
	}
	return r;
}

int fixlist_add(struct fixlist *fl, const char *name, const char *path, const char *file,
		const char *whole)
{
	struct fix *nv = realloc(fl->v, (fl->n + 1) * sizeof(*nv));
	struct fix *f;
	int r;

	if (!nv)
		return hp_err(-ENOMEM, "out of memory");
	fl->v = nv;
	f = &fl->v[fl->n];
	*f = (struct fix){.name = strdup(name), .path = strdup(path),
			  .file = file ? strdup(file) : NULL, .whole = whole ? strdup(whole) : NULL};
	r = diffparse(path, &f->diff);
	fl->n++;
	if (r < 0)
		return hp_err_prefix(r, "patch %s: ", name);
	return f->name && f->path && (!file || f->file) && (!whole || f->whole)
		       ? 0
		       : hp_err(-ENOMEM, "out of memory");
}

void fix_refuse(struct fix *f, const char *reason)
{
	f->verdict = FIX_REFUSED;
	free(f->reason);
	/* a layout's member list is for the log, not for a verdict */
	f->reason = strlen(reason) > 200 ? strndup(reason, 200) : strdup(reason);
	if (f->reason && strlen(reason) > 200)
		strcpy(f->reason + 196, "...");
}

/* Is @source, as a refusal names it (an object's file, "../x/y.c", or the
 * full path the debug info gives), the file @file of the tree? A bare name
 * is compared with @file's base name only: sysdeps/sparc/sysdep.h is not
 * the sysdeps/x86_64/sysdep.h a refusal names. */
static bool source_is(const char *source, const char *file)
{
	const char *base = strrchr(file, '/') ? strrchr(file, '/') + 1 : file;
	size_t ns, nf = strlen(file);

	if (!source)
		return false;
	while (strncmp(source, "./", 2) == 0 || strncmp(source, "../", 3) == 0)
		source += source[1] == '/' ? 2 : 3;
	ns = strlen(source);
	if (strcmp(source, file) == 0)
		return true;
	if (ns > nf && source[ns - nf - 1] == '/' && strcmp(source + ns - nf, file) == 0)
		return true;
	return !strchr(source, '/') && strlen(base) > 2 && strcmp(source, base) == 0;
}

bool fix_touches_source(const struct fix *f, const char *source)
{
	if (f->file)
		return source_is(source, f->file);
	for (size_t h = 0; h < f->diff.nhunks; h++)
		if (source_is(source, f->diff.hunks[h].file))
			return true;
	return false;
}

static void add_func(struct fix *f, const char *name)
{
	char **nv;

	for (size_t i = 0; i < f->nfuncs; i++)
		if (strcmp(f->funcs[i], name) == 0)
			return;
	nv = realloc(f->funcs, (f->nfuncs + 1) * sizeof(*nv));
	if (!nv)
		return;
	f->funcs = nv;
	if ((nv[f->nfuncs] = strdup(name)))
		f->nfuncs++;
}

/* Is @path (as a patch names it) one of the target's source files? */
static bool is_target_file(const char *path, const char *const *files, size_t nfiles)
{
	const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;

	for (size_t i = 0; i < nfiles; i++) {
		const char *fb = strrchr(files[i], '/') ? strrchr(files[i], '/') + 1 : files[i];

		if (strcmp(fb, base) == 0)
			return true;
	}
	return false;
}

static const char *base_name(const char *path)
{
	return strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
}

/* Is the patch text at @p, a "+++ " line, about a file named like @file? */
static bool header_is(const char *p, const char *file)
{
	char path[PATH_MAX];

	if (sscanf(p + 4, "%4095s", path) != 1)
		return false;
	return strcmp(base_name(path), base_name(file)) == 0;
}

/*
 * When the debug info does not give a function's lines (exported functions
 * behind aliases, say), the patch itself may still name it in @file's part:
 * in a hunk's header (diff -p puts the enclosing function there) or on a
 * changed line.
 */
static bool patch_names_func(const char *text, const char *file, const char *name)
{
	size_t n = strlen(name);
	bool in_file = false;

	for (const char *l = text; *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : l + strlen(l)) {
		const char *end = strchr(l, '\n') ? strchr(l, '\n') : l + strlen(l);
		const char *p = l;

		if (strncmp(l, "+++ ", 4) == 0) {
			in_file = header_is(l, file);
			continue;
		}
		if (!in_file || (strncmp(l, "@@", 2) && *l != '+' && *l != '-') ||
		    strncmp(l, "---", 3) == 0)
			continue;
		while ((p = strstr(p, name)) && p < end) {
			if (p[n] == '(' && (p == l || !(isalnum((unsigned char)p[-1]) || p[-1] == '_')))
				return true;
			p += n;
		}
	}
	return false;
}

/* A source file the build compiles (not a header: a hunk there may only
 * declare, and what it changes is counted where it is used). */
static bool compiled_source(const char *path)
{
	static const char *const ext[] = {".c", ".cc", ".cpp", ".cxx", ".S", ".s"};
	const char *dot = strrchr(base_name(path), '.');

	for (size_t i = 0; dot && i < ARRAY_SIZE(ext); i++)
		if (strcmp(dot, ext[i]) == 0)
			return true;
	return false;
}

/* Does hunk @h reach a changed function: one at its lines, or one of its
 * file that the debug info gives no lines for (named by the patch)? */
static bool hunk_reaches(const struct fix *f, const struct diff_hunk *h,
			 const struct fn_change *v, size_t n)
{
	struct diff_info one = {.hunks = (struct diff_hunk *)h, .nhunks = 1};

	for (size_t i = 0; i < n; i++) {
		if (!v[i].file)
			continue;
		if (v[i].line && diff_touches(&one, v[i].file, v[i].line, v[i].end_line))
			return true;
		for (size_t k = 0; !v[i].line && k < f->nfuncs; k++)
			if (strcmp(f->funcs[k], v[i].name) == 0 &&
			    strcmp(base_name(v[i].file), base_name(h->file)) == 0)
				return true;
	}
	return false;
}

/*
 * The hunks of @f in a compiled source file of the target that reach no
 * changed function: the build compiled that code out, or the change is in
 * an object not linked into the target. The fix is then not whole in the
 * live patch, whatever else it reaches. Lists them in @out ("FILE:LINE").
 */
static size_t unreached_hunks(const struct fix *f, const struct fn_change *v, size_t n,
			      const char *const *files, size_t nfiles, struct buf *out)
{
	size_t count = 0;

	for (size_t h = 0; h < f->diff.nhunks; h++) {
		const struct diff_hunk *hk = &f->diff.hunks[h];

		/* comments, blank lines, #include: no code to reach */
		if (!hk->code || !compiled_source(hk->file) ||
		    !is_target_file(hk->file, files, nfiles) || hunk_reaches(f, hk, v, n))
			continue;
		buf_printf(out, "%s%s:%u", count++ ? ", " : "a hunk reaching no changed function "
							  "of this file: ",
			   hk->file, hk->first);
	}
	if (count)
		buf_printf(out, " (compiled out by the build's configuration, or in an object "
				"not linked into this file?)");
	return count;
}

static void assign_one(
struct fix *f, const struct fn_change *v, size_t n,
		       const char *const *files, size_t nfiles)
{
	_cleanup_free_ uint8_t *text = NULL;
	struct buf unreached = {0};
	bool touches_target = false;
	size_t len;

	if (f->path && file_read_all(f->path, 1 << 26, &text, &len) < 0)
		text = NULL;
	for (size_t i = 0; i < n; i++) {
		const char *base = v[i].name;
		char plain[256];

		/* xmlFoo.part.0, .constprop.0, .cold: the function they came from */
		snprintf(plain, sizeof(plain), "%.*s", (int)strcspn(base, "."), base);
		if (v[i].file && v[i].line &&
		    diff_touches(&f->diff, v[i].file, v[i].line, v[i].end_line))
			add_func(f, v[i].name);
		else if (!v[i].line && v[i].file && text &&
			 patch_names_func((const char *)text, v[i].file, plain))
			add_func(f, v[i].name);
	}
	for (size_t h = 0; h < f->diff.nhunks; h++)
		touches_target |= is_target_file(f->diff.hunks[h].file, files, nfiles);
	free(f->reason);
	f->reason = NULL;
	if (f->nfuncs && unreached_hunks(f, v, n, files, nfiles, &unreached)) {
		f->verdict = FIX_IN_PART;
		f->reason = buf_cstr(&unreached) ? strdup((char *)unreached.data) : NULL;
	} else if (f->nfuncs) {
		f->verdict = FIX_IN_PATCH;
	} else if (touches_target) {
		f->verdict = FIX_NO_CODE;
		f->reason = strdup("it changes source files of this file, but no function of it "
				   "as the package builds it: the code is compiled out by the "
				   "build's configuration, or only comments or macros changed");
	} else {
		f->verdict = FIX_NOT_IN_FILE;
		f->reason = strdup("it changes files that are not compiled into this file "
				   "(another binary of the package, tests, or disabled features)");
	}
	buf_free(&unreached);
}

void fixlist_assign(struct fixlist *fl, const struct fn_change *v, size_t n,
		    const char *const *files, size_t nfiles)
{
	for (size_t i = 0; i < fl->n; i++)
		if (fl->v[i].verdict != FIX_REFUSED) /* refused before this build */
			assign_one(&fl->v[i], v, n, files, nfiles);
}

void fixlist_refuse(struct fixlist *fl, const char *reason)
{
	for (size_t i = 0; i < fl->n; i++) {
		if (fl->v[i].verdict != FIX_IN_PATCH && fl->v[i].verdict != FIX_IN_PART)
			continue;
		free(fl->v[i].reason);
		fl->v[i].reason = strdup(reason);
		fl->v[i].verdict = FIX_REFUSED;
	}
}

size_t fixlist_count(const struct fixlist *fl, enum fix_verdict v)
{
	size_t n = 0;

	for (size_t i = 0; i < fl->n; i++)
		n += fl->v[i].verdict == v;
	return n;
}

void fixlist_explain(const struct fixlist *fl, struct buf *out)
{
	buf_printf(out, "fixes between the versions: %zu (%zu in the live patch, %zu only in "
			"part, %zu refused, %zu not in this file, %zu without a code change "
			"here)\n",
		   fl->n, fixlist_count(fl, FIX_IN_PATCH), fixlist_count(fl, FIX_IN_PART),
		   fixlist_count(fl, FIX_REFUSED), fixlist_count(fl, FIX_NOT_IN_FILE),
		   fixlist_count(fl, FIX_NO_CODE));
	for (size_t i = 0; i < fl->n; i++) {
		const struct fix *f = &fl->v[i];

		buf_printf(out, "fix %s: %s", f->name, verdict_names[f->verdict]);
		if (f->reason)
			buf_printf(out, " (%s)", f->reason);
		buf_printf(out, "\n  cves:");
		for (size_t k = 0; k < f->diff.ncves; k++)
			buf_printf(out, " %s", f->diff.cves[k]);
		buf_printf(out, "%s\n  functions:", f->diff.ncves ? "" : " none");
		for (size_t k = 0; k < f->nfuncs; k++)
			buf_printf(out, " %s()", f->funcs[k]);
		buf_printf(out, "%s\n", f->nfuncs ? "" : " none");
		if (f->diff.description)
			buf_printf(out, "  about: %s\n", f->diff.description);
	}
	if (fl->changelog.ncves) {
		buf_printf(out, "changelog CVE ids between the versions:");
		for (size_t k = 0; k < fl->changelog.ncves; k++)
			buf_printf(out, " %s", fl->changelog.cves[k]);
		buf_printf(out, "\n");
	}
}

void fixlist_free(struct fixlist *fl)
{
	for (size_t i = 0; i < fl->n; i++) {
		free(fl->v[i].name);
		free(fl->v[i].path);
		free(fl->v[i].file);
		free(fl->v[i].whole);
		diffparse_free(&fl->v[i].diff);
		for (size_t k = 0; k < fl->v[i].nfuncs; k++)
			free(fl->v[i].funcs[k]);
		free(fl->v[i].funcs);
		free(fl->v[i].reason);
	}
	free(fl->v);
	diffparse_free(&fl->changelog);
	*fl = (struct fixlist){0};
}
