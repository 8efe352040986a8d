/* SPDX-License-Identifier: MIT */
#include "cxxname.h"

#include <elf.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "error.h"
#include "lazylib.h"
#include "macro.h"
#include "symtab.h"

static struct lazy_lib stdcxx = LAZY_LIB("libstdc++.so.6", "libstdc++6");

#define ANON "(anonymous namespace)::"

char *cxxname_demangle(const char *mangled, int *ret_err)
{
	char *(*demangle)(const char *, char *, size_t *, int *);
	int status = 0;
	char *out;

	*ret_err = 0;
	if (strncmp(mangled, "_Z", 2) != 0)
		return NULL;
	if (lazy_open(&stdcxx) < 0) {
		*ret_err = -ENOENT;
		return NULL;
	}
	demangle = (char *(*)(const char *, char *, size_t *, int *))lazy_sym(&stdcxx,
									      "__cxa_demangle");
	out = demangle(mangled, NULL, NULL, &status);
	if (status != 0) {
		free(out);
		return NULL;
	}
	return out;
}

/* @s with every "(anonymous namespace)::" taken out, into @b. */
static void without_anon(const char *s, struct buf *b)
{
	const char *p;

	b->len = 0;
	while ((p = strstr(s, ANON))) {
		buf_put(b, s, (size_t)(p - s));
		s = p + strlen(ANON);
	}
	buf_put(b, s, strlen(s) + 1);
}

/* Does demangled @d name @want? 2: exactly; 1: without its parameter list
 * (@want has none); 0: no. */
static int match(const char *d, const char *want)
{
	size_t n = strlen(want);

	if (strcmp(d, want) == 0)
		return 2;
	if (strchr(want, '(') || strncmp(d, want, n) != 0 || d[n] != '(')
		return 0;
	return 1;
}

static bool file_ok(const struct symtab_entry *e, const char *file)
{
	if (!file || !*file)
		return true;
	return e->bind == STB_LOCAL && symtab_file_matches(e->file, file);
}

struct found {
	const struct symtab_entry *best;
	int level; /* of best */
	size_t n;  /* candidates at that level */
	struct buf list;
};

static void consider(struct found *f, const struct symtab_entry *e, const char *d, int level)
{
	if (level < f->level || (f->best && f->best->value == e->value && level == f->level))
		return;
	if (level > f->level) {
		f->level = level;
		f->n = 0;
		f->list.len = 0;
	}
	f->best = e;
	f->n++;
	buf_printf(&f->list, "%s'%s' (%s)", f->n > 1 ? ", " : "", d, e->name);
}

int cxxname_lookup(const struct symtab *st, const char *name, const char *file,
		   const struct symtab_entry **ret)
{
	struct found f = {0};
	struct buf want = {0}, plain = {0};
	int r = 0;

	without_anon(name, &want);
	for (size_t i = 0; r == 0 && i < st->n; i++) {
		const struct symtab_entry *e = &st->v[i];
		_cleanup_free_ char *d = NULL;
		int level;

		if (e->type != STT_FUNC || !file_ok(e, file))
			continue;
		d = cxxname_demangle(e->name, &r);
		if (!d || strstr(d, "[clone "))
			continue;
		level = match(d, name);
		if (!level) {
			without_anon(d, &plain);
			level = match((const char *)plain.data, (const char *)want.data);
		}
		if (level)
			consider(&f, e, d, level);
	}
	if (r == 0 && (want.oom || plain.oom || f.list.oom))
		r = hp_err(-ENOMEM, "out of memory");
	else if (r == 0 && !f.best)
		r = hp_err(-ENOENT, "the target has no C++ function named '%s'", name);
	else if (r == 0 && f.n > 1)
		r = hp_err(-ENOTUNIQ, "'%s' names %zu functions of the target: %.*s; write the "
				      "parameter list too",
			   name, f.n, (int)f.list.len, (const char *)f.list.data);
	if (r == 0)
		*ret = f.best;
	buf_free(&want);
	buf_free(&plain);
	buf_free(&f.list);
	return r;
}
