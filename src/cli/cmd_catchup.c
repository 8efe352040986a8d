/* SPDX-License-Identifier: MIT */
/*
 * hotpatch catch-up [--list] [--json]: after `apt upgrade`, every running
 * process that maps a file the upgrade replaced (stale.c), what it runs and
 * what is installed (the apt hook's record, dpkg-query), the CVE ids fixed
 * in between (the installed changelog), and what can be done: the installed
 * bundles for the running build are applied (the engine checks the exact
 * build and bytes, as `apply` does), and what is left needs a restart, with
 * the reason the bundle's builder gave (its structured refusals).
 *
 * The phases:
 *   1. bundles: every stored bundle, signature checked against trusted.d
 *      (an untrusted one is listed, never applied);
 *   2. scan: every process, every stale code file in it;
 *   3. resolve: package, running and installed version, CVE ids, the
 *      bundles whose build-id is the running file's, which the process
 *      already carries (read back from the process, as status does);
 *   4. apply (not with --list): the bundles it does not carry yet, one
 *      process at a time; then every carried one is enabled, so hotpatchd
 *      keeps processes of the old build started later from a file still
 *      open caught up, and withdrawn from staging: the disk already has
 *      the fix;
 *   5. decide: each file's action.
 */
#include <dirent.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "catchup.h"
#include "catchup_pkg.h"
#include "cli.h"
#include "clock.h"
#include "config.h"
#include "debversion.h"
#include "hex.h"
#include "macro.h"
#include "paths.h"
#include "patches.h"
#include "pkgindex.h"
#include "procfs.h"
#include "store.h"
#include "trust.h"

#define DEFAULT_TIMEOUT_NS (10 * NSEC_PER_SEC)
#define DEFAULT_STOP_BUDGET_NS (100 * NSEC_PER_MSEC)

static const char *const action_names[] = {
	[CU_CAUGHT_UP] = "caught-up",
	[CU_PENDING] = "pending",
	[CU_RESTART] = "restart-needed",
	[CU_MISSING] = "bundle-missing",
	[CU_NO_FIX] = "no-fix-needed",
};

const char *cu_action_name(enum cu_action a)
{
	return (size_t)a < ARRAY_SIZE(action_names) ? action_names[a] : "unknown";
}

/* --- 1. bundles ---------------------------------------------------------- */

static int add_bundle(struct catchup *c, struct bundle *b)
{
	struct cu_bundle *nv = realloc(c->bundles, (c->nbundles + 1) * sizeof(*nv));

	if (!nv) {
		bundle_free(b);
		return hp_err(-ENOMEM, "out of memory");
	}
	c->bundles = nv;
	nv[c->nbundles] = (struct cu_bundle){.b = b};
	/* A verdict that does not parse is no refusal: the bundle still fits. */
	if (b->verdict && verdict_decode(b->verdict, b->verdict_len, &nv[c->nbundles].v) < 0)
		hp_err_clear();
	c->nbundles++;
	return 0;
}

static int load_bundles(struct catchup *c)
{
	struct bundle_load_opts lo = {.insecure = true, .verify = trust_verify_bundle};
	DIR *d = opendir(paths()->bundles);
	struct dirent *de;
	int r = 0;

	while (d && r == 0 && (de = readdir(d))) {
		char path[PATH_MAX];
		struct bundle *b = NULL;
		size_t len = strlen(de->d_name);

		if (len != BUNDLE_ID_LEN + 4 || strcmp(de->d_name + BUNDLE_ID_LEN, ".hpb") != 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", paths()->bundles, de->d_name);
		if (bundle_load(path, &lo, &b) < 0) {
			cli_warn("%s", hp_err_msg(-EINVAL));
			continue;
		}
		r = add_bundle(c, b);
	}
	if (d)
		closedir(d);
	hp_err_clear();
	return r;
}

/* --- 2. scan ------------------------------------------------------------- */

static int add_proc(struct catchup *c, struct stale_process *sp)
{
	struct cu_proc *nv = realloc(c->procs, (c->nprocs + 1) * sizeof(*nv));

	if (!nv)
		return hp_err(-ENOMEM, "out of memory");
	c->procs = nv;
	nv[c->nprocs] = (struct cu_proc){.sp = *sp};
	snprintf(nv[c->nprocs].root, sizeof(nv[c->nprocs].root), "/proc/%d/root",
		 proc_live_tid(sp->pid));
	nv[c->nprocs].files = calloc(sp->n, sizeof(struct cu_file));
	if (!nv[c->nprocs].files)
		return hp_err(-ENOMEM, "out of memory");
	c->nprocs++;
	*sp = (struct stale_process){0};
	return 0;
}

static int scan(struct catchup *c)
{
	pid_t *pids = NULL;
	size_t npids = 0;
	int r = proc_list_pids(&pids, &npids);

	for (size_t i = 0; r == 0 && i < npids; i++) {
		struct stale_process sp = {0};

		/* Gone, a kernel thread, or not ours to read: nothing to say. */
		if (stale_scan(pids[i], &sp) < 0) {
			hp_err_clear();
			continue;
		}
		if (sp.n)
			r = add_proc(c, &sp);
		stale_process_free(&sp);
	}
	free(pids);
	return r;
}

/* --- 3. resolve ---------------------------------------------------------- */

/* The build host's no-fix record for the running build: it names the
 * version of that build too (when the hook recorded none), and it settles
 * the file only when it examined the fixes up to the installed version. */
static void no_fix_record(const char *id, struct cu_file *cf)
{
	int r = nofix_find(paths()->no_fix, id, &cf->nf);

	if (r == -ENOENT) /* the host's own, from `catch-up = build` */
		r = nofix_find(paths()->no_fix_local, id, &cf->nf);
	if (r < 0) {
		if (r != -ENOENT)
			cli_warn("%s", hp_err_msg(r));
		hp_err_clear();
		return;
	}
	cf->has_nofix = true;
	if (!cf->package[0])
		snprintf(cf->package, sizeof(cf->package), "%s", cf->nf.package);
	if (!cf->running[0] && strcmp(cf->package, cf->nf.package) == 0) {
		snprintf(cf->running, sizeof(cf->running), "%s", cf->nf.from);
		cf->from_nofix = true;
	}
}

/* Package and running version: the apt hook's record, else dpkg's owner
 * of the path; then the no-fix record. */
static void identify(const struct cu_proc *p, struct cu_file *cf)
{
	char id[2 * HP_BUILD_ID_MAX + 1];
	struct pkgindex_entry e;

	hex_encode(cf->f->running_id, cf->f->running_len, id);
	if (pkgindex_find(id, &e) == 0) {
		snprintf(cf->package, sizeof(cf->package), "%s", e.package);
		snprintf(cf->running, sizeof(cf->running), "%s", e.version);
		cf->from_hook = true;
	} else if (catchup_pkg_owner(p->root, cf->f->path, cf->package, sizeof(cf->package)) < 0) {
		cf->package[0] = '\0';
	}
	hp_err_clear();
	no_fix_record(id, cf);
}

/* What a process sees as its files. */
struct cu_root {
	dev_t dev;
	ino_t ino;
	ino_t mntns;
};

static bool wants_version(const struct cu_file *cf)
{
	return !cf->running[0] && cf->f->running_len;
}

/* Processes @i and @j see the same files: the same root directory in the
 * same mount namespace (one with other mounts under the same root sees
 * other apt lists). */
static bool same_root(const struct cu_root *roots, size_t i, size_t j)
{
	return roots[j].dev == roots[i].dev && roots[j].ino == roots[i].ino &&
	       roots[j].mntns == roots[i].mntns;
}

/* The unknown builds of the processes that see what process @i sees, each
 * build once, in @q; returns how many. */
static size_t dbgsym_queries(const struct catchup *c, const struct cu_root *roots, size_t i,
			     struct dbgsym_query *q, size_t max)
{
	size_t n = 0;

	for (size_t j = i; j < c->nprocs; j++) {
		if (!same_root(roots, i, j))
			continue;
		for (size_t k = 0; k < c->procs[j].sp.n && n < max; k++) {
			const struct cu_file *cf = &c->procs[j].files[k];
			char id[2 * HP_BUILD_ID_MAX + 1];
			bool dup = false;

			if (!wants_version(cf))
				continue;
			hex_encode(cf->f->running_id, cf->f->running_len, id);
			for (size_t m = 0; m < n && !dup; m++)
				dup = strcmp(q[m].build_id, id) == 0;
			if (!dup)
				memcpy(q[n++].build_id, id, sizeof(id));
		}
	}
	return n;
}

/* The answers for the processes of that root. */
static void dbgsym_apply(struct catchup *c, const struct cu_root *roots, size_t i,
			 const struct dbgsym_query *q, size_t n, bool *done)
{
	for (size_t j = i; j < c->nprocs; j++) {
		if (!same_root(roots, i, j))
			continue;
		done[j] = true;
		for (size_t k = 0; k < c->procs[j].sp.n; k++) {
			struct cu_file *cf = &c->procs[j].files[k];
			char id[2 * HP_BUILD_ID_MAX + 1];

			if (!wants_version(cf))
				continue;
			hex_encode(cf->f->running_id, cf->f->running_len, id);
			for (size_t m = 0; m < n; m++)
				if (q[m].found && strcmp(q[m].build_id, id) == 0 &&
				    (!cf->package[0] || strcmp(cf->package, q[m].package) == 0)) {
					snprintf(cf->package, sizeof(cf->package), "%s", q[m].package);
					snprintf(cf->running, sizeof(cf->running), "%s", q[m].version);
					cf->from_dbgsym = true;
				}
		}
	}
}

/* The running versions still unknown, from the -dbgsym build-ids in the apt
 * lists of the processes' roots: one pass over the lists per root (a glibc
 * upgrade without the hook's record leaves every process to ask). */
static int dbgsym_versions(struct catchup *c)
{
	_cleanup_free_ struct cu_root *roots = calloc(c->nprocs + 1, sizeof(*roots));
	_cleanup_free_ bool *done = calloc(c->nprocs + 1, sizeof(*done));
	size_t max = 0;

	if (!roots || !done)
		return hp_err(-ENOMEM, "out of memory");
	for (size_t i = 0; i < c->nprocs; i++) {
		char ns[64];
		struct stat st, nst;

		snprintf(ns, sizeof(ns), "/proc/%d/ns/mnt", c->procs[i].sp.pid);
		/* a process gone since: a root of its own, asked alone */
		if (stat(c->procs[i].root, &st) < 0 || stat(ns, &nst) < 0)
			roots[i] = (struct cu_root){.dev = (dev_t)-1, .ino = (ino_t)i};
		else
			roots[i] = (struct cu_root){st.st_dev, st.st_ino, nst.st_ino};
		max += c->procs[i].sp.n;
	}
	for (size_t i = 0; i < c->nprocs; i++) {
		_cleanup_free_ struct dbgsym_query *q = NULL;
		size_t n;

		if (done[i])
			continue;
		q = calloc(max + 1, sizeof(*q));
		if (!q)
			return hp_err(-ENOMEM, "out of memory");
		n = dbgsym_queries(c, roots, i, q, max);
		if (n)
			catchup_dbgsym_lookup(c->procs[i].root, q, n);
		dbgsym_apply(c, roots, i, q, n, done);
	}
	return 0;
}

/* The installed version, and the CVE ids between the two. */
static void installed(const struct cu_proc *p, struct cu_file *cf)
{
	if (cf->package[0] &&
	    catchup_pkg_version(p->root, cf->package, cf->installed, sizeof(cf->installed)) < 0)
		cf->installed[0] = '\0';
	if (cf->running[0] && cf->installed[0] &&
	    catchup_pkg_cves(p->root, cf->package, cf->running, cf->installed, &cf->cves) == 0)
		cf->cves_known = true;
	hp_err_clear();
}

static bool fits(const struct bundle *b, const struct stale_file *f)
{
	return b->manifest.build_id_len == f->running_len &&
	       memcmp(b->manifest.build_id, f->running_id, f->running_len) == 0;
}

/* The ids of the patches @pid carries completely. */
static void carried_ids(pid_t pid, char (**ret)[BUNDLE_ID_LEN + 1], size_t *ret_n)
{
	struct proc_maps maps = {0};
	struct loaded_patch *lp = NULL;
	size_t n = 0;
	int memfd = -1;

	*ret = NULL;
	*ret_n = 0;
	if (proc_maps_read(pid, &maps) < 0 || (memfd = proc_mem_open(pid, false)) < 0 ||
	    patches_scan(pid, memfd, &maps, &lp, &n) < 0)
		goto out;
	*ret = calloc(n ? n : 1, sizeof(**ret));
	for (size_t i = 0; *ret && i < n; i++)
		if (patches_applied(&lp[i]))
			memcpy((*ret)[(*ret_n)++], lp[i].id, BUNDLE_ID_LEN + 1);
	patches_free(lp, n);
out:
	if (memfd >= 0)
		close(memfd);
	proc_maps_free(&maps);
	hp_err_clear();
}

static int match_bundles(const struct catchup *c, const struct cu_proc *p, struct cu_file *cf)
{
	char(*carried)[BUNDLE_ID_LEN + 1] = NULL;
	size_t ncarried = 0;

	cf->bundles = calloc(c->nbundles + 1, sizeof(*cf->bundles));
	cf->carried = calloc(c->nbundles + 1, sizeof(*cf->carried));
	if (!cf->bundles || !cf->carried)
		return hp_err(-ENOMEM, "out of memory");
	carried_ids(p->sp.pid, &carried, &ncarried);
	for (size_t i = 0; i < c->nbundles; i++) {
		if (!fits(c->bundles[i].b, cf->f))
			continue;
		cf->bundles[cf->nbundles] = i;
		for (size_t k = 0; k < ncarried; k++)
			if (strcmp(carried[k], c->bundles[i].b->id) == 0)
				cf->carried[cf->nbundles] = true;
		cf->nbundles++;
	}
	free(carried);
	return 0;
}

static int resolve(struct catchup *c)
{
	int r = 0;

	for (size_t i = 0; i < c->nprocs; i++)
		for (size_t k = 0; k < c->procs[i].sp.n; k++) {
			c->procs[i].files[k].f = &c->procs[i].sp.files[k];
			identify(&c->procs[i], &c->procs[i].files[k]);
		}
	r = dbgsym_versions(c);
	for (size_t i = 0; r == 0 && i < c->nprocs; i++)
		for (size_t k = 0; r == 0 && k < c->procs[i].sp.n; k++) {
			installed(&c->procs[i], &c->procs[i].files[k]);
			r = match_bundles(c, &c->procs[i], &c->procs[i].files[k]);
		}
	return r;
}

/* --- 4. apply ------------------------------------------------------------ */

/* The files of process @pid that bundle @bi fits and that do not carry it,
 * each through @fn. */
static void each_wanting(struct catchup *c, size_t bi, pid_t pid,
			 void (*fn)(struct catchup *c, struct cu_file *cf, size_t k, void *arg),
			 void *arg)
{
	for (size_t i = 0; i < c->nprocs; i++)
		for (size_t k = 0; pid == c->procs[i].sp.pid && k < c->procs[i].sp.n; k++)
			for (size_t m = 0; m < c->procs[i].files[k].nbundles; m++)
				if (c->procs[i].files[k].bundles[m] == bi &&
				    !c->procs[i].files[k].carried[m])
					fn(c, &c->procs[i].files[k], m, arg);
}

struct applying {
	struct catchup *c;
	size_t bi;
	const struct engine_report *rep;
	const char *why; /* the bundle could not be used at all */
};

static void note_outcome(struct catchup *c, struct cu_file *cf, size_t k, void *arg)
{
	const struct applying *a = arg;
	const char *id = c->bundles[a->bi].b->id;

	if (a->why) {
		snprintf(cf->reason, sizeof(cf->reason), "%s", a->why);
	} else if (a->rep->outcome == OUTCOME_PATCHED || a->rep->outcome == OUTCOME_ALREADY) {
		cf->carried[k] = true;
		c->applied += a->rep->outcome == OUTCOME_PATCHED;
	} else {
		c->failed += a->rep->outcome == OUTCOME_FAILED;
		snprintf(cf->reason, sizeof(cf->reason), "applying %s %s: %s", id,
			 outcome_name(a->rep->outcome), a->rep->reason);
	}
}

static void on_report(const struct engine_report *rep, void *arg)
{
	struct applying *a = arg;

	a->rep = rep;
	each_wanting(a->c, a->bi, rep->pid, note_outcome, a);
}

static int add_pid(pid_t **v, size_t *n, pid_t pid)
{
	pid_t *nv;

	for (size_t i = 0; i < *n; i++)
		if ((*v)[i] == pid)
			return 0;
	nv = realloc(*v, (*n + 1) * sizeof(*nv));
	if (!nv)
		return hp_err(-ENOMEM, "out of memory");
	*v = nv;
	nv[(*n)++] = pid;
	return 0;
}

/* The processes that bundle @bi fits and that do not carry it yet. */
static int wanting(const struct catchup *c, size_t bi, pid_t **ret, size_t *ret_n)
{
	int r = 0;

	*ret = NULL;
	*ret_n = 0;
	for (size_t i = 0; r == 0 && i < c->nprocs; i++)
		for (size_t k = 0; r == 0 && k < c->procs[i].sp.n; k++)
			for (size_t m = 0; r == 0 && m < c->procs[i].files[k].nbundles; m++)
				if (c->procs[i].files[k].bundles[m] == bi &&
				    !c->procs[i].files[k].carried[m])
					r = add_pid(ret, ret_n, c->procs[i].sp.pid);
	return r;
}

/* Each bundle on the processes it fits, through the engine, as `apply`
 * would: exact build and bytes, the store's object, every write on the
 * audit trail. No staging: the disk already has the fix. */
static int apply_one(struct catchup *c, size_t bi)
{
	const struct bundle *b = c->bundles[bi].b;
	struct applying a = {.c = c, .bi = bi};
	struct engine_run run = {.kind = ENGINE_APPLY, .b = b, .o = c->eo,
				 .on_report = on_report, .arg = &a};
	struct engine_result res;
	pid_t *pids = NULL;
	size_t n = 0;
	int r = wanting(c, bi, &pids, &n);

	if (r < 0 || !n)
		return r;
	run.pids = pids;
	run.npids = n;
	if (!b->verified)
		a.why = "its bundle is not signed by a key in trusted.d: not applied";
	else if ((r = engine_run(&run, &res)) < 0)
		a.why = hp_err_msg(r);
	for (size_t i = 0; a.why && i < n; i++)
		each_wanting(c, bi, pids[i], note_outcome, &a);
	free(pids);
	return 0;
}

static int apply_all(struct catchup *c)
{
	int r = 0;

	for (size_t bi = 0; r == 0 && bi < c->nbundles; bi++)
		r = apply_one(c, bi);
	return r;
}

/* The disk already has a newer file than the bundle's target: committing
 * its fixed file would undo the upgrade, so a staging is withdrawn. */
static void unstage(const struct bundle *b, bool json)
{
	struct engine_staging st;

	engine_stage(b->id, b, false, &st);
	if (st.outcome == STAGING_UNSTAGED)
		fprintf(json ? stderr : stdout,
			"%s is no longer staged for commit: a package upgrade already replaced "
			"%s\n",
			b->id, b->manifest.target_path);
	else
		cli_print_staging(&st, json);
}

/* On the audit trail; the commit policy that follows stages nothing here
 * (the target was replaced). */
static void enable(const struct bundle *b)
{
	struct engine_staging st;

	if (engine_enable(b->id, true, &st) < 0)
		cli_warn("%s", hp_err_msg(-EIO));
	else if (st.outcome == STAGING_FAILED)
		cli_warn("%s", st.reason);
}

/* Every bundle a stale file's process carries, applied now or before (by
 * `apply`, or by a patch package's postinst that ran while the disk still
 * had the original, and staged it), is enabled, so hotpatchd keeps later
 * processes of the old build caught up, and withdrawn from staging: the
 * disk has the upgrade now. */
static void settle_all(const struct catchup *c)
{
	for (size_t i = 0; i < c->nprocs; i++)
		for (size_t k = 0; k < c->procs[i].sp.n; k++)
			for (size_t m = 0; m < c->procs[i].files[k].nbundles; m++) {
				const struct bundle *b =
					c->bundles[c->procs[i].files[k].bundles[m]].b;

				if (!c->procs[i].files[k].carried[m])
					continue;
				if (b->verified && !store_is_enabled(b->id))
					enable(b);
				unstage(b, c->json);
			}
}

/* --- 5. decide ----------------------------------------------------------- */

/* The no-fix record examined every fix up to the installed version: a
 * later upgrade's fixes may change the code. */
static bool no_fix_covers(const struct cu_file *cf)
{
	return cf->has_nofix && cf->installed[0] && strcmp(cf->package, cf->nf.package) == 0 &&
	       debversion_cmp(cf->installed, cf->nf.to) <= 0;
}

bool cu_no_restart(const struct cu_file *cf)
{
	return cf->action == CU_CAUGHT_UP || (cf->action == CU_NO_FIX && no_fix_covers(cf));
}

static void decide(const struct catchup *c, struct cu_file *cf)
{
	bool all = cf->nbundles > 0, refused = false;

	for (size_t k = 0; k < cf->nbundles; k++) {
		all &= cf->carried[k];
		refused |= c->bundles[cf->bundles[k]].v.nrefusals > 0;
	}
	if (cf->reason[0] || (all && refused))
		cf->action = CU_RESTART;
	else if (all)
		cf->action = CU_CAUGHT_UP;
	else if (cf->nbundles)
		cf->action = CU_PENDING;
	else if ((cf->cves_known && cf->cves.n == 0) || no_fix_covers(cf))
		cf->action = CU_NO_FIX;
	else
		cf->action = CU_MISSING;
}

int catchup_run(struct catchup *c)
{
	int r;

	r = load_bundles(c);
	if (r == 0)
		r = scan(c);
	if (r == 0)
		r = resolve(c);
	if (r == 0 && !c->list)
		r = apply_all(c);
	if (r == 0 && !c->list)
		settle_all(c);
	for (size_t i = 0; r == 0 && i < c->nprocs; i++)
		for (size_t k = 0; k < c->procs[i].sp.n; k++)
			decide(c, &c->procs[i].files[k]);
	return r;
}

void catchup_free(struct catchup *c)
{
	for (size_t i = 0; i < c->nprocs; i++) {
		for (size_t k = 0; k < c->procs[i].sp.n; k++) {
			changelog_cves_free(&c->procs[i].files[k].cves);
			nofix_free(&c->procs[i].files[k].nf);
			free(c->procs[i].files[k].bundles);
			free(c->procs[i].files[k].carried);
		}
		free(c->procs[i].files);
		stale_process_free(&c->procs[i].sp);
	}
	free(c->procs);
	for (size_t i = 0; i < c->nbundles; i++) {
		bundle_free(c->bundles[i].b);
		verdict_free(&c->bundles[i].v);
	}
	free(c->bundles);
	catchup_pkg_forget();
	*c = (struct catchup){0};
}

/* --- the command --------------------------------------------------------- */

static int usage(int status)
{
	printf("Usage: hotpatch catch-up [--list] [--json] [--timeout DUR]\n\n"
	       "After a package upgrade: every running process that still maps a file the\n"
	       "upgrade replaced, the package, the version it runs and the one installed,\n"
	       "the CVE ids fixed in between, and what can be done. Without --list, the\n"
	       "installed bundles for the running builds are applied and enabled first.\n\n"
	       "  --list           only report (needs no bundle, changes nothing)\n"
	       "  --json           machine-readable output\n"
	       "  --timeout DUR    give up on a process after DUR (default 10s)\n"
	       "  --needrestart    the lines needrestart's conf.d snippet reads\n"
	       "  --apt-hook pre|post  the apt hook's two ends (70hotpatch)\n");
	return status;
}

int catchup_init(struct catchup *c, bool *ret_list)
{
	struct hp_config conf;
	int r = config_load(&conf);

	if (r < 0)
		return r;
	*c = (struct catchup){0};
	c->eo = (struct engine_opts){.timeout_ns = DEFAULT_TIMEOUT_NS,
				     .stop_budget_ns = DEFAULT_STOP_BUDGET_NS,
				     .boost = conf.boost,
				     .boost_grace_ns = conf.boost_grace_ns,
				     .skip_uninspectable = true};
	*ret_list = conf.catch_up == CATCHUP_LIST;
	config_free(&conf);
	return 0;
}

int cmd_catchup(int argc, char **argv)
{
	static const struct option opts[] = {
		{"list", no_argument, NULL, 'l'},
		{"json", no_argument, NULL, 'J'},
		{"timeout", required_argument, NULL, 't'},
		{"needrestart", no_argument, NULL, 'N'},
		{"apt-hook", required_argument, NULL, 'A'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	struct catchup c = {0};
	bool needrestart = false, hook_lists;
	int opt, r;

	/* The hook's mode is for the hook: here the options decide. */
	r = catchup_init(&c, &hook_lists);
	if (r < 0)
		return cli_refuse(r);
	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (opt == 'l') {
			c.list = true;
		} else if (opt == 'J') {
			c.json = true;
		} else if (opt == 't') {
			if (cli_parse_duration(optarg, &c.eo.timeout_ns) < 0)
				return cli_usage("bad --timeout '%s'", optarg);
		} else if (opt == 'N') {
			needrestart = c.list = true;
		} else if (opt == 'A') {
			if (strcmp(optarg, "pre") != 0 && strcmp(optarg, "post") != 0)
				return cli_usage("--apt-hook takes pre or post, not '%s'", optarg);
			return catchup_apt_hook(optarg);
		} else {
			return usage(opt == 'h' ? EXIT_OK : EXIT_REFUSED);
		}
	}
	if (optind != argc)
		return cli_usage("catch-up takes no arguments; see `hotpatch catch-up --help`");
	r = cli_require_ptrace("catch-up");
	if (r)
		return r;
	r = catchup_run(&c);
	if (r < 0) {
		catchup_free(&c);
		return cli_refuse(r);
	}
	if (needrestart)
		catchup_print_needrestart(&c);
	else if (c.json)
		catchup_print_json(&c);
	else
		catchup_print_text(&c, false);
	r = c.failed ? EXIT_FAILED : EXIT_OK;
	catchup_free(&c);
	return r;
}
