/* SPDX-License-Identifier: MIT */
/* What `hotpatch catch-up` found and did, as text, JSON, or the lines
 * needrestart's conf.d snippet reads. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catchup.h"
#include "cli.h"
#include "json.h"

static const struct cu_bundle *bundle_of(const struct catchup *c, const struct cu_file *cf,
					 size_t k)
{
	return &c->bundles[cf->bundles[k]];
}

static void counts(const struct catchup *c, unsigned n[CU_ACTION_MAX])
{
	memset(n, 0, sizeof(unsigned) * CU_ACTION_MAX);
	for (size_t i = 0; i < c->nprocs; i++)
		for (size_t k = 0; k < c->procs[i].sp.n; k++)
			n[c->procs[i].files[k].action]++;
}

/* --- text ---------------------------------------------------------------- */

static void text_versions(const struct cu_file *cf)
{
	printf("    package %s: runs %s%s, installed %s\n", cf->package[0] ? cf->package : "(none)",
	       cf->running[0] ? cf->running : "an unknown version",
	       cf->from_hook    ? " (recorded by the apt hook)"
	       : cf->from_nofix  ? " (named by the no-fix record)"
	       : cf->from_dbgsym ? " (its build-id is in the apt lists' -dbgsym entries)"
				 : "",
	       cf->installed[0] ? cf->installed : "none");
	if (!cf->cves_known)
		return;
	printf("    fixed in between:");
	for (size_t i = 0; i < cf->cves.n; i++)
		printf(" %s", cf->cves.ids[i]);
	printf("%s\n", cf->cves.n ? "" : " no CVE ids in the changelog");
}

static void text_bundles(const struct catchup *c, const struct cu_file *cf)
{
	for (size_t k = 0; k < cf->nbundles; k++) {
		const struct cu_bundle *cb = bundle_of(c, cf, k);
		const struct manifest *m = &cb->b->manifest;

		printf("    %s %s (%s)", cf->carried[k] ? "caught up by" : "bundle", cb->b->id, m->name);
		for (size_t i = 0; i < m->ncves; i++)
			printf(" %s", m->cves[i]);
		printf("\n");
		for (size_t i = 0; i < cb->v.nrefusals; i++) {
			const struct refusal *x = &cb->v.refusals[i];

			printf("    refused%s%s: %s: %s\n", x->fix ? " " : "", x->fix ? x->fix : "",
			       refusal_kind_name(x->kind), x->reason ? x->reason : "");
		}
	}
}

/* The build host's verdict, and each fix's. */
static void text_no_fix(const struct cu_file *cf)
{
	if (!cf->has_nofix)
		return;
	printf("    no-fix record: no fix between %s and %s changes the code of %s\n",
	       cf->nf.from, cf->nf.to, cf->nf.target);
	for (size_t i = 0; i < cf->nf.v.nfixes; i++) {
		const struct fix_outcome *x = &cf->nf.v.fixes[i];

		printf("      %s: %s", x->name, x->verdict);
		for (size_t k = 0; k < x->ncves; k++)
			printf(" %s", x->cves[k]);
		printf("\n");
	}
}

static const char *advice(enum cu_action a)
{
	switch (a) {
	case CU_CAUGHT_UP:
		return "caught up: no restart needed";
	case CU_PENDING:
		return "a bundle is installed: `hotpatch catch-up` applies it";
	case CU_RESTART:
		return "restart needed";
	case CU_MISSING:
		return "bundle missing: restart it, or install the live patch for this build";
	case CU_NO_FIX:
		return "no fix needed: nothing to patch live";
	default:
		return "";
	}
}

void catchup_print_text(const struct catchup *c, bool quiet_if_none)
{
	unsigned n[CU_ACTION_MAX];

	counts(c, n);
	if (!c->nprocs) {
		if (!quiet_if_none)
			printf("catch-up: no process runs a replaced file\n");
		return;
	}
	for (size_t i = 0; i < c->nprocs; i++) {
		const struct cu_proc *p = &c->procs[i];

		printf("pid %d (%s):\n", p->sp.pid, p->sp.comm);
		for (size_t k = 0; k < p->sp.n; k++) {
			const struct cu_file *cf = &p->files[k];

			printf("  %s%s\n", cf->f->path, cf->f->deleted ? " (deleted)" : " (replaced)");
			text_versions(cf);
			text_bundles(c, cf);
			text_no_fix(cf);
			printf("    %s%s%s\n", advice(cf->action), cf->reason[0] ? ": " : "",
			       cf->reason);
		}
	}
	printf("catch-up: %zu process%s run%s replaced files: %u caught up, %u pending, %u restart "
	       "needed, %u bundle missing, %u no fix needed\n",
	       c->nprocs, c->nprocs == 1 ? "" : "es", c->nprocs == 1 ? "s" : "", n[CU_CAUGHT_UP],
	       n[CU_PENDING], n[CU_RESTART], n[CU_MISSING], n[CU_NO_FIX]);
}

/* --- JSON ---------------------------------------------------------------- */

static void json_refusals(struct json *j, const struct verdict *v)
{
	json_key(j, "refused");
	json_arr_begin(j);
	for (size_t i = 0; i < v->nrefusals; i++) {
		const struct refusal *x = &v->refusals[i];

		json_obj_begin(j);
		json_kv_str(j, "kind", refusal_kind_name(x->kind));
		if (x->symbol)
			json_kv_str(j, "symbol", x->symbol);
		if (x->fix)
			json_kv_str(j, "fix", x->fix);
		json_kv_str(j, "reason", x->reason ? x->reason : "");
		json_obj_end(j);
	}
	json_arr_end(j);
}

static void json_bundles(struct json *j, const struct catchup *c, const struct cu_file *cf)
{
	json_key(j, "bundles");
	json_arr_begin(j);
	for (size_t k = 0; k < cf->nbundles; k++) {
		const struct cu_bundle *cb = bundle_of(c, cf, k);

		json_obj_begin(j);
		json_kv_str(j, "id", cb->b->id);
		json_kv_str(j, "name", cb->b->manifest.name);
		json_kv_bool(j, "applied", cf->carried[k]);
		json_kv_bool(j, "signed", cb->b->verified);
		json_key(j, "cves");
		json_arr_begin(j);
		for (size_t i = 0; i < cb->b->manifest.ncves; i++)
			json_str(j, cb->b->manifest.cves[i]);
		json_arr_end(j);
		json_refusals(j, &cb->v);
		json_obj_end(j);
	}
	json_arr_end(j);
}

/* "no_fix": the build host's record for this build, or null. */
static void json_no_fix(struct json *j, const struct cu_file *cf)
{
	json_key(j, "no_fix");
	if (!cf->has_nofix) {
		json_null(j);
		return;
	}
	json_obj_begin(j);
	json_kv_str(j, "package", cf->nf.package);
	json_kv_str(j, "from", cf->nf.from);
	json_kv_str(j, "to", cf->nf.to);
	json_kv_str(j, "target", cf->nf.target);
	json_kv_int(j, "created", (int64_t)cf->nf.created);
	verdict_json(&cf->nf.v, j);
	json_obj_end(j);
}

static void json_opt_str(struct json *j, const char *key, const char *s)
{
	json_key(j, key);
	if (s[0])
		json_str(j, s);
	else
		json_null(j);
}

static void json_file(struct json *j, const struct catchup *c, const struct cu_file *cf)
{
	json_obj_begin(j);
	json_kv_str(j, "path", cf->f->path);
	json_kv_bool(j, "deleted", cf->f->deleted);
	json_kv_bool(j, "exe", cf->f->exe);
	json_opt_str(j, "package", cf->package);
	json_opt_str(j, "running_version", cf->running);
	json_kv_str(j, "running_version_from", cf->from_hook    ? "apt-hook"
					       : cf->from_nofix  ? "no-fix-record"
					       : cf->from_dbgsym ? "dbgsym"
								 : "unknown");
	json_opt_str(j, "installed_version", cf->installed);
	json_key(j, "cves_fixed");
	if (cf->cves_known) {
		json_arr_begin(j);
		for (size_t i = 0; i < cf->cves.n; i++)
			json_str(j, cf->cves.ids[i]);
		json_arr_end(j);
	} else {
		json_null(j);
	}
	json_kv_str(j, "action", cu_action_name(cf->action));
	if (cf->reason[0])
		json_kv_str(j, "reason", cf->reason);
	json_bundles(j, c, cf);
	json_no_fix(j, cf);
	json_obj_end(j);
}

void catchup_print_json(const struct catchup *c)
{
	struct json j = {0};
	unsigned n[CU_ACTION_MAX];

	counts(c, n);
	json_obj_begin(&j);
	json_kv_str(&j, "operation", c->list ? "list" : "catch-up");
	json_key(&j, "processes");
	json_arr_begin(&j);
	for (size_t i = 0; i < c->nprocs; i++) {
		const struct cu_proc *p = &c->procs[i];

		json_obj_begin(&j);
		json_kv_int(&j, "pid", p->sp.pid);
		json_kv_str(&j, "comm", p->sp.comm);
		json_key(&j, "files");
		json_arr_begin(&j);
		for (size_t k = 0; k < p->sp.n; k++)
			json_file(&j, c, &p->files[k]);
		json_arr_end(&j);
		json_obj_end(&j);
	}
	json_arr_end(&j);
	json_key(&j, "summary");
	json_obj_begin(&j);
	json_kv_int(&j, "processes", (int64_t)c->nprocs);
	for (int a = 0; a < CU_ACTION_MAX; a++)
		json_kv_int(&j, cu_action_name(a), n[a]);
	json_kv_int(&j, "applied", c->applied);
	json_kv_int(&j, "failed", c->failed);
	json_obj_end(&j);
	json_obj_end(&j);
	printf("%s\n", json_text(&j));
	json_free(&j);
}

/* --- needrestart --------------------------------------------------------- */

/* Does every process that maps @path (as the program when @exe) need no
 * restart for it (caught up, or a no-fix record), nor for any other stale
 * file when @exe (needrestart's program blacklist skips the whole process)? */
static bool all_caught_up(const struct catchup *c, const char *path, bool exe)
{
	bool any = false;

	for (size_t i = 0; i < c->nprocs; i++) {
		const struct cu_proc *p = &c->procs[i];
		bool maps = false, whole = true;

		for (size_t k = 0; k < p->sp.n; k++) {
			bool here = strcmp(p->files[k].f->path, path) == 0 && (!exe || p->files[k].f->exe);

			maps |= here;
			if ((here || exe) && !cu_no_restart(&p->files[k]))
				whole = false;
		}
		if (maps && !whole)
			return false;
		any |= maps;
	}
	return any;
}

void catchup_print_needrestart(const struct catchup *c)
{
	for (size_t i = 0; i < c->nprocs; i++)
		for (size_t k = 0; k < c->procs[i].sp.n; k++) {
			const struct stale_file *f = c->procs[i].files[k].f;
			bool first = true;

			/* Each path once. */
			for (size_t a = 0; a <= i && first; a++)
				for (size_t b = 0; b < c->procs[a].sp.n && (a < i || b < k); b++)
					if (strcmp(c->procs[a].files[b].f->path, f->path) == 0)
						first = false;
			if (!first)
				continue;
			if (all_caught_up(c, f->path, false))
				printf("mapping\t%s\n", f->path);
			if (f->exe && all_caught_up(c, f->path, true))
				printf("exe\t%s\n", f->path);
		}
}
