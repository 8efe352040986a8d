/* SPDX-License-Identifier: MIT */
#include "verdict.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "json.h"
#include "macro.h"

static const char *const kind_names[] = {
	[REFUSAL_OTHER] = "other",
	[REFUSAL_LAYOUT] = "struct-layout",
	[REFUSAL_ASM] = "code-outside-functions",
	[REFUSAL_IFUNC] = "ifunc-resolver",
	[REFUSAL_CTOR] = "constructor",
	[REFUSAL_TLS] = "thread-local",
	[REFUSAL_DATA] = "existing-data",
	[REFUSAL_RENUMBERED] = "renumbered-static",
	[REFUSAL_INCOMPLETE] = "incomplete",
	[REFUSAL_NO_APPLY] = "does-not-apply",
	[REFUSAL_DEPENDS] = "depends-on-refused",
};

/* The counts in the order the section and the JSON give them. */
static const struct {
	const char *name;
	size_t off;
} count_fields[] = {
	{"compared", offsetof(struct verdict_counts, compared)},
	{"differ", offsetof(struct verdict_counts, differ)},
	{"replaced", offsetof(struct verdict_counts, replaced)},
	{"inlined", offsetof(struct verdict_counts, inlined)},
	{"cold", offsetof(struct verdict_counts, cold)},
	{"benign", offsetof(struct verdict_counts, benign)},
	{"refused", offsetof(struct verdict_counts, refused)},
	{"carried", offsetof(struct verdict_counts, carried)},
	{"only_new", offsetof(struct verdict_counts, only_new)},
};

#define LIST_SEP '\x1f'
#define COUNT(c, i) (*(uint64_t *)((char *)(c) + count_fields[i].off))

const char *refusal_kind_name(enum refusal_kind k)
{
	return (unsigned)k < REFUSAL_KIND_MAX ? kind_names[k] : "other";
}

static int kind_by_name(const char *name)
{
	for (int k = 0; k < REFUSAL_KIND_MAX; k++)
		if (strcmp(kind_names[k], name) == 0)
			return k;
	return -1;
}

static int dup_or_null(const char *s, char **ret)
{
	*ret = s && *s ? strdup(s) : NULL;
	return s && *s && !*ret ? -ENOMEM : 0;
}

int refusal_init(struct refusal *ret, enum refusal_kind kind, const char *symbol,
		 const char *source, const char *reason)
{
	struct refusal r = {.kind = kind};

	if (dup_or_null(symbol, &r.symbol) < 0 || dup_or_null(source, &r.source) < 0 ||
	    dup_or_null(reason, &r.reason) < 0) {
		refusal_free(&r);
		return hp_err(-ENOMEM, "out of memory");
	}
	*ret = r;
	return 0;
}

static int add_made_from(struct refusal *r, const char *file, size_t n)
{
	char **nv = realloc(r->made_from, (r->nmade_from + 1) * sizeof(*nv));

	if (!nv)
		return -ENOMEM;
	r->made_from = nv;
	if (!(nv[r->nmade_from] = strndup(file, n)))
		return -ENOMEM;
	r->nmade_from++;
	return 0;
}

int refusal_copy(const struct refusal *r, struct refusal *ret)
{
	struct refusal c;
	int k = refusal_init(&c, r->kind, r->symbol, r->source, r->reason);

	if (k < 0)
		return k;
	if (dup_or_null(r->fix, &c.fix) < 0)
		k = -ENOMEM;
	for (size_t i = 0; k == 0 && i < r->nmade_from; i++)
		k = add_made_from(&c, r->made_from[i], strlen(r->made_from[i]));
	if (k < 0) {
		refusal_free(&c);
		return hp_err(-ENOMEM, "out of memory");
	}
	*ret = c;
	return 0;
}

void refusal_free(struct refusal *r)
{
	free(r->symbol);
	free(r->source);
	free(r->fix);
	free(r->reason);
	for (size_t i = 0; i < r->nmade_from; i++)
		free(r->made_from[i]);
	free(r->made_from);
	*r = (struct refusal){0};
}

void refusal_text(const struct refusal *r, struct buf *out)
{
	buf_printf(out, "%s", r->reason ? r->reason : refusal_kind_name(r->kind));
	for (size_t i = 0; i < r->nmade_from; i++)
		buf_printf(out, "%s%s", i ? ", " : " (made from ", r->made_from[i]);
	if (r->nmade_from)
		buf_printf(out, ")");
}

int verdict_add_refusal(struct verdict *v, const struct refusal *r)
{
	struct refusal *nv = realloc(v->refusals, (v->nrefusals + 1) * sizeof(*nv));

	if (!nv)
		return hp_err(-ENOMEM, "out of memory");
	v->refusals = nv;
	if (refusal_copy(r, &nv[v->nrefusals]) < 0)
		return -ENOMEM;
	v->nrefusals++;
	return 0;
}

/* Text inside a field: tabs, line ends and the list separator would split
 * it, so they become spaces. */
static void put_text(struct buf *out, const char *s)
{
	for (; s && *s; s++)
		buf_put(out, *s == '\t' || *s == '\n' || *s == LIST_SEP ? " " : s, 1);
}

static void put_field(struct buf *out, const char *s)
{
	buf_put(out, "\t", 1);
	put_text(out, s);
}

static void encode_counts(const char *what, const struct verdict_counts *c, struct buf *out)
{
	buf_printf(out, "counts\t%s", what);
	for (size_t i = 0; i < ARRAY_SIZE(count_fields); i++)
		buf_printf(out, "\t%" PRIu64, COUNT(c, i));
	buf_put(out, "\n", 1);
}

/* One line per record: "counts\tfunctions\tN...", "refusal\tKIND\tSYMBOL\t
 * SOURCE\tMADE_FROM (separated by LIST_SEP)\tFIX\tREASON". */
static void fix_outcome_free(struct fix_outcome *f)
{
	free(f->name);
	for (size_t i = 0; i < f->ncves; i++)
		free(f->cves[i]);
	free(f->cves);
	free(f->verdict);
	free(f->reason);
	*f = (struct fix_outcome){0};
}

int verdict_add_fix(struct verdict *v, const char *name, char *const *cves, size_t ncves,
		    const char *verdict, const char *reason)
{
	struct fix_outcome f = {0}, *nv;
	int k = dup_or_null(name, &f.name);

	if (k == 0)
		k = dup_or_null(verdict, &f.verdict);
	if (k == 0)
		k = dup_or_null(reason, &f.reason);
	f.cves = k == 0 ? calloc(ncves ? ncves : 1, sizeof(*f.cves)) : NULL;
	for (size_t i = 0; f.cves && i < ncves; i++, f.ncves++)
		if (!(f.cves[i] = strdup(cves[i])))
			break;
	nv = f.cves && f.ncves == ncves ? realloc(v->fixes, (v->nfixes + 1) * sizeof(*nv)) : NULL;
	if (!nv) {
		fix_outcome_free(&f);
		return hp_err(-ENOMEM, "out of memory");
	}
	v->fixes = nv;
	nv[v->nfixes++] = f;
	return 0;
}

static void encode_fixes(const struct verdict *v, struct buf *out)
{
	for (size_t i = 0; i < v->nfixes; i++) {
		const struct fix_outcome *f = &v->fixes[i];

		buf_printf(out, "fix");
		put_field(out, f->name);
		put_field(out, f->verdict);
		buf_put(out, "\t", 1);
		for (size_t k = 0; k < f->ncves; k++) {
			if (k)
				buf_put(out, (char[]){LIST_SEP}, 1);
			put_text(out, f->cves[k]);
		}
		put_field(out, f->reason);
		buf_put(out, "\n", 1);
	}
}

void verdict_encode(const struct verdict *v, struct buf *out)
{
	if (v->checked) {
		encode_counts("functions", &v->funcs, out);
		encode_counts("objects", &v->objects, out);
	}
	for (size_t i = 0; i < v->nrefusals; i++) {
		const struct refusal *r = &v->refusals[i];

		buf_printf(out, "refusal\t%s", refusal_kind_name(r->kind));
		put_field(out, r->symbol);
		put_field(out, r->source);
		buf_put(out, "\t", 1);
		for (size_t k = 0; k < r->nmade_from; k++) {
			if (k)
				buf_put(out, (char[]){LIST_SEP}, 1);
			put_text(out, r->made_from[k]);
		}
		put_field(out, r->fix);
		put_field(out, r->reason);
		buf_put(out, "\n", 1);
	}
	encode_fixes(v, out);
}

#define FIELDS_MAX 16

/* Splits @line (writable) at tabs; returns how many fields. */
static size_t split(char *line, char **f)
{
	size_t n = 0;

	for (char *p = line; n < FIELDS_MAX; p++) {
		f[n++] = p;
		p = strchr(p, '\t');
		if (!p)
			break;
		*p = '\0';
	}
	return n;
}

static int decode_counts(char **f, size_t n, struct verdict *v)
{
	struct verdict_counts *c = strcmp(f[1], "functions") == 0 ? &v->funcs
				   : strcmp(f[1], "objects") == 0   ? &v->objects
								    : NULL;

	if (!c || n != 2 + ARRAY_SIZE(count_fields))
		return -EBADMSG;
	for (size_t i = 0; i < ARRAY_SIZE(count_fields); i++) {
		char *end;

		COUNT(c, i) = strtoull(f[2 + i], &end, 10);
		if (end == f[2 + i] || *end)
			return -EBADMSG;
	}
	v->checked = true;
	return 0;
}

static int decode_refusal(char **f, size_t n, struct verdict *v)
{
	struct refusal r;
	int kind = n == 7 ? kind_by_name(f[1]) : -1;
	int k;

	if (kind < 0)
		return -EBADMSG;
	k = refusal_init(&r, (enum refusal_kind)kind, f[2], f[3], f[6]);
	if (k == 0)
		k = dup_or_null(f[5], &r.fix);
	for (char *p = f[4]; k == 0 && *p;) {
		size_t len = strcspn(p, (char[]){LIST_SEP, 0});

		k = add_made_from(&r, p, len);
		p += len + (p[len] == LIST_SEP);
	}
	if (k == 0)
		k = verdict_add_refusal(v, &r);
	refusal_free(&r);
	return k < 0 ? -ENOMEM : 0;
}

static int decode_fix(char **f, size_t n, struct verdict *v)
{
	char *cves[64];
	size_t ncves = 0;

	if (n != 5 || !*f[1] || !*f[2])
		return -EBADMSG;
	for (char *p = f[3]; *p && ncves < ARRAY_SIZE(cves);) {
		char *sep = strchr(p, LIST_SEP);

		cves[ncves++] = p;
		if (!sep)
			break;
		*sep = '\0';
		p = sep + 1;
	}
	return verdict_add_fix(v, f[1], cves, ncves, f[2], f[4]) < 0 ? -ENOMEM : 0;
}

int verdict_decode(const char *text, size_t len, struct verdict *ret)
{
	_cleanup_free_ char *copy = strndup(text, len);
	struct verdict v = {0};
	char *save = NULL;
	int k = copy ? 0 : -ENOMEM;

	for (char *l = copy ? strtok_r(copy, "\n", &save) : NULL; k == 0 && l;
	     l = strtok_r(NULL, "\n", &save)) {
		char *f[FIELDS_MAX];
		size_t n = split(l, f);

		if (strcmp(f[0], "counts") == 0 && n > 1)
			k = decode_counts(f, n, &v);
		else if (strcmp(f[0], "refusal") == 0)
			k = decode_refusal(f, n, &v);
		else if (strcmp(f[0], "fix") == 0)
			k = decode_fix(f, n, &v);
		/* other records: a newer builder's, skipped */
	}
	if (k < 0) {
		verdict_free(&v);
		return hp_err(k, k == -ENOMEM ? "out of memory"
					     : "the bundle's verdict section is malformed");
	}
	*ret = v;
	return 0;
}

static void json_opt_str(struct json *j, const char *key, const char *s)
{
	json_key(j, key);
	if (s)
		json_str(j, s);
	else
		json_null(j);
}

static void json_counts(struct json *j, const char *key, const struct verdict_counts *c)
{
	json_key(j, key);
	json_obj_begin(j);
	for (size_t i = 0; i < ARRAY_SIZE(count_fields); i++)
		json_kv_int(j, count_fields[i].name, (int64_t)COUNT(c, i));
	json_obj_end(j);
}

void verdict_json(const struct verdict *v, struct json *j)
{
	json_key(j, "completeness");
	if (v->checked) {
		json_obj_begin(j);
		json_counts(j, "functions", &v->funcs);
		json_counts(j, "objects", &v->objects);
		json_obj_end(j);
	} else {
		json_null(j);
	}
	json_key(j, "refusals");
	json_arr_begin(j);
	for (size_t i = 0; i < v->nrefusals; i++) {
		const struct refusal *r = &v->refusals[i];

		json_obj_begin(j);
		json_kv_str(j, "kind", refusal_kind_name(r->kind));
		json_opt_str(j, "symbol", r->symbol);
		json_opt_str(j, "source", r->source);
		json_key(j, "made_from");
		json_arr_begin(j);
		for (size_t k = 0; k < r->nmade_from; k++)
			json_str(j, r->made_from[k]);
		json_arr_end(j);
		json_opt_str(j, "fix", r->fix);
		json_opt_str(j, "reason", r->reason);
		json_obj_end(j);
	}
	json_arr_end(j);
	json_key(j, "fixes");
	json_arr_begin(j);
	for (size_t i = 0; i < v->nfixes; i++) {
		const struct fix_outcome *f = &v->fixes[i];

		json_obj_begin(j);
		json_kv_str(j, "name", f->name);
		json_key(j, "cves");
		json_arr_begin(j);
		for (size_t k = 0; k < f->ncves; k++)
			json_str(j, f->cves[k]);
		json_arr_end(j);
		json_kv_str(j, "verdict", f->verdict);
		json_opt_str(j, "reason", f->reason);
		json_obj_end(j);
	}
	json_arr_end(j);
}

void verdict_free(struct verdict *v)
{
	for (size_t i = 0; i < v->nrefusals; i++)
		refusal_free(&v->refusals[i]);
	free(v->refusals);
	for (size_t i = 0; i < v->nfixes; i++)
		fix_outcome_free(&v->fixes[i]);
	free(v->fixes);
	*v = (struct verdict){0};
}
