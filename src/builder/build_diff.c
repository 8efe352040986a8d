/* SPDX-License-Identifier: MIT */
/*
 * hotpatch build, from a source diff (the way kpatch-build does it).
 *
 * The pipeline, and what holds after each phase:
 *   1. begin      -> the target is open: build-id, type, symbols
 *   2. read diff  -> its hunks, CVE ids and subject are known
 *   3. trees      -> tmp/orig and tmp/fixed are copies of DIR, the fix applied
 *                    to the second; DIR itself is never touched
 *   4. build      -> both trees built with the same command, each compilation
 *                    with per-function and per-variable sections and -g
 *   5. compare    -> every changed, new or removed function, and every changed
 *                    constant, is known; a change that cannot be patched live
 *                    (existing data, a struct layout, TLS) has stopped the build
 *   6. explain    -> each changed function carries why it changed (the diff
 *                    touched it, or it inlines a function the diff touched)
 *   7. object     -> tmp/patch.o holds the replacements and what they need
 *   8. file       -> (unless --no-file-update) the fixed tree built plainly,
 *                    its output for the target stored as a zstd delta
 *   9. finish     -> the common phases (patchlink.c): link, check, resolve,
 *                    write the bundle
 */
#include <elf.h>
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "build.h"
#include "completeness.h"
#include "cxxeh.h"
#include "diffparse.h"
#include "dwarfinfo.h"
#include "error.h"
#include "filedelta.h"
#include "fileio.h"
#include "macro.h"
#include "objdiff.h"
#include "patchlink.h"
#include "patchwrite.h"
#include "srctree.h"
#include "progress.h"
#include "strv.h"

struct dbuild {
	const struct build_diff_opts *o;
	struct build b;
	struct diff_info diff;
	struct srctree tree;
	char orig[PATH_MAX], fixed[PATH_MAX], plain[PATH_MAX];
	const char *cmd;
	struct obj *origs, *fixeds; /* paired by index */
	size_t nobjs;
	struct dw_info *dorig, *dfixed;
	struct changes changes;
	struct buf explain;
	size_t check_at; /* where the check of "nothing to patch" starts in it */
	struct verdict verdict; /* what the bundle says it decided, as data */
};

static int trees(struct dbuild *d)
{
	int r;

	if (d->o->orig_tree) {
		/* Built already, in the package's own way (build_upgrade.c). */
		snprintf(d->orig, sizeof(d->orig), "%s", d->o->orig_tree);
		snprintf(d->fixed, sizeof(d->fixed), "%s", d->o->fixed_tree);
		return 0;
	}
	snprintf(d->orig, sizeof(d->orig), "%s/orig", d->b.tmp);
	snprintf(d->fixed, sizeof(d->fixed), "%s/fixed", d->b.tmp);
	r = srctree_init(&d->tree, d->b.tmp);
	if (r == 0)
		r = srctree_copy(d->o->source_dir, d->orig);
	if (r == 0)
		r = srctree_copy(d->o->source_dir, d->fixed);
	if (r == 0)
		r = srctree_apply(d->fixed, d->o->diff);
	if (r < 0)
		return r;
	d->cmd = d->o->build_cmd ? d->o->build_cmd : srctree_guess_build(d->orig);
	if (!d->cmd)
		return hp_err(-EINVAL, "cannot tell how to build %s (no meson.build, "
				       "CMakeLists.txt, Makefile or configure); pass --build 'CMD'",
			      d->o->source_dir);
	return 0;
}

static int build_both(struct dbuild *d)
{
	int r;

	if (d->o->orig_tree)
		return 0;
	r = srctree_build(&d->tree, d->orig, d->cmd, true, "building the original tree");

	if (r == 0)
		r = srctree_build(&d->tree, d->fixed, d->cmd, true, "building the fixed tree");
	return r;
}

/* How much object @o looks linked into the target: the share of its
 * functions that are in the target's symbol table with the same size. A
 * source package may build several programs from the same sources (with
 * other flags, say), and only the target's copies may be compared. */
static double target_score(const struct dbuild *d, const struct obj *o)
{
	size_t funcs = 0, found = 0;

	for (size_t i = 0; i < o->nsym; i++) {
		const struct osym *s = &o->sym[i];

		if (s->type != STT_FUNC || !s->size || s->shndx == SHN_UNDEF)
			continue;
		funcs++;
		for (size_t k = 0; k < d->b.syms.n; k++)
			if (d->b.syms.v[k].type == STT_FUNC && d->b.syms.v[k].size == s->size &&
			    strcmp(d->b.syms.v[k].name, s->name) == 0) {
				found++;
				break;
			}
	}
	return funcs ? (double)found / (double)funcs : 0;
}

/* libtool builds each file twice, PIC in .libs/ (what shared libraries are
 * linked from) and not, and glibc as .os and .o; when the sizes cannot tell
 * them apart, that can. */
static bool preferred_copy(const struct dbuild *d, const struct obj *o)
{
	const char *t = d->b.man.target_path;
	size_t n = strlen(o->rel);

	return t && strstr(t, ".so") &&
	       (strncmp(o->rel, ".libs/", 6) == 0 || strstr(o->rel, "/.libs/") ||
		(n > 3 && strcmp(o->rel + n - 3, ".os") == 0));
}

/* An object linked from others (ld -r, glibc's libc_pic.os) repeats what
 * they hold: it names more than one source file. */
static bool is_combined(const struct obj *o)
{
	size_t files = 0;

	for (size_t i = 0; i < o->nsym && files < 2; i++)
		files += o->sym[i].type == STT_FILE;
	return files > 1;
}

/* Tests only: match objects to sources by base name, the defect the
 * completeness check must catch (tests/corpus: a vendored same-name file). */
static bool match_by_basename(void)
{
	return getenv("HOTPATCH_TEST_MATCH_BY_BASENAME") != NULL;
}

/* Are @a and @b compiled from the same source file? The STT_FILE symbol
 * is only its base name, and a tree may hold src/X.c and a vendored
 * deps/lib/X.c, both linked into the target: only the full path the debug
 * info gives (DW_AT_comp_dir + DW_AT_name) tells them apart. Without it,
 * two objects are not taken for copies of one source: both are kept. */
static bool same_source_file(const struct obj *a, const struct obj *b)
{
	char pa[PATH_MAX * 2], pb[PATH_MAX * 2];

	if (!a->file || !b->file || strcmp(a->file, b->file) != 0)
		return false;
	if (match_by_basename())
		return true;
	if (dwarfinfo_cu_path(a->path, pa, sizeof(pa)) < 0 ||
	    dwarfinfo_cu_path(b->path, pb, sizeof(pb)) < 0) {
		hp_err_clear();
		return false;
	}
	return strcmp(pa, pb) == 0;
}

/* With target_objs_only: the kept object compiled from the same source file
 * as @o, if any, else -1. */
static ssize_t same_source(const struct dbuild *d, const struct obj *o)
{
	for (size_t i = 0; i < d->nobjs; i++)
		if (same_source_file(&d->fixeds[i], o))
			return (ssize_t)i;
	return -1;
}

/* Whether to keep the object just opened at d->fixeds[d->nobjs] (and where):
 * an object of the target, and the best copy of its source file. */
static bool keep_object(struct dbuild *d, double *scores, size_t *ret_at)
{
	struct obj *o = &d->fixeds[d->nobjs];
	/* the original's object is what the target was linked from: the
	 * fixed one's changed functions have other sizes (a file of one
	 * function would score nothing) */
	double score = target_score(d, d->origs[d->nobjs].nsec ? &d->origs[d->nobjs] : o);
	ssize_t twin = same_source(d, o);

	*ret_at = d->nobjs;
	if (score < 0.5 || is_combined(o))
		return false;
	if (twin >= 0) {
		bool better = score > scores[twin] ||
			      (score == scores[twin] && preferred_copy(d, o) &&
			       !preferred_copy(d, &d->fixeds[twin]));

		if (!better)
			return false;
		obj_close(&d->fixeds[twin]);
		obj_close(&d->origs[twin]);
		d->fixeds[twin] = *o;
		d->origs[twin] = d->origs[d->nobjs];
		*ret_at = (size_t)twin;
		memset(o, 0, sizeof(*o));
		memset(&d->origs[d->nobjs], 0, sizeof(*o));
	}
	scores[*ret_at] = score;
	return true;
}

/* Pairs the two builds' objects by their path in the tree. A lone object
 * of the fixed build is a new file: everything in it is new. */
static int open_objects(struct dbuild *d)
{
	char **a = NULL, **f = NULL;
	double *scores = NULL;
	size_t na = 0, nf = 0;
	int r;

	r = srctree_objects(d->orig, &a, &na);
	if (r == 0)
		r = srctree_objects(d->fixed, &f, &nf);
	if (r == 0 && !nf)
		r = hp_err(-EINVAL, "the build of %s produced no object files", d->fixed);
	if (r == 0) {
		d->origs = calloc(nf, sizeof(*d->origs));
		d->fixeds = calloc(nf, sizeof(*d->fixeds));
		if (!d->origs || !d->fixeds)
			r = hp_err(-ENOMEM, "out of memory");
	}
	if (r == 0 && !(scores = calloc(nf, sizeof(*scores))))
		r = hp_err(-ENOMEM, "out of memory");
	for (size_t i = 0; r == 0 && i < nf; i++) {
		char path[PATH_MAX * 2];
		size_t at = d->nobjs;

		snprintf(path, sizeof(path), "%s/%s", d->fixed, f[i]);
		r = obj_open(path, f[i], &d->fixeds[at]);
		for (size_t k = 0; r == 0 && k < na; k++)
			if (strcmp(a[k], f[i]) == 0) {
				snprintf(path, sizeof(path), "%s/%s", d->orig, a[k]);
				r = obj_open(path, a[k], &d->origs[at]);
			}
		if (r < 0) {
			obj_close(&d->fixeds[at]);
			break;
		}
		if ((d->o->target_objs_only || match_by_basename()) &&
		    !keep_object(d, scores, &at)) {
			obj_close(&d->fixeds[d->nobjs]);
			obj_close(&d->origs[d->nobjs]);
			continue;
		}
		d->nobjs += at == d->nobjs;
	}
	free(scores);
	strv_free_n(a, na);
	strv_free_n(f, nf);
	return r;
}

static int check_lto(const struct obj *o)
{
	for (size_t i = 1; i < o->nsec; i++)
		if (strncmp(o->sec[i].name, ".gnu.lto_", 9) == 0)
			return hp_err(-EINVAL, "%s was built with link-time optimisation (-flto), "
					       "which hides what each function became; rebuild "
					       "without LTO",
				      o->rel);
	return 0;
}

/* The first member@offset entry where two layouts ("a@0;b@8") differ, or
 * "the end": the whole layouts of a big struct would drown the message. */
static void first_difference(const char *a, const char *b, char *ret_a, char *ret_b, size_t len)
{
	for (;;) {
		size_t na = strcspn(a, ";"), nb = strcspn(b, ";");

		if (na != nb || strncmp(a, b, na) != 0 || !na) {
			snprintf(ret_a, len, "%.*s", na ? (int)na : 7, na ? a : "the end");
			snprintf(ret_b, len, "%.*s", nb ? (int)nb : 7, nb ? b : "the end");
			return;
		}
		a += na + (a[na] == ';');
		b += nb + (b[nb] == ';');
	}
}

/* The refusal just made (error @r with its message) kept as data too. */
static int keep_refusal(struct dbuild *d, int r, enum refusal_kind kind, const char *symbol,
			const char *source)
{
	_cleanup_free_ char *msg = strdup(hp_err_msg(r));

	refusal_free(&d->changes.refusal);
	if (!msg || refusal_init(&d->changes.refusal, kind, symbol, source, msg) < 0)
		return hp_err(-ENOMEM, "out of memory");
	return hp_err(r, "%s", msg);
}

/* Reads both objects' DWARF and refuses a struct layout change. */
static int check_pair(struct dbuild *d, size_t i)
{
	const struct dw_struct *before, *after;
	int r = check_lto(&d->fixeds[i]);

	if (r < 0)
		return r;
	r = dwarfinfo_read(d->fixeds[i].path, &d->dfixed[i]);
	if (r == 0 && d->origs[i].nsec)
		r = dwarfinfo_read(d->origs[i].path, &d->dorig[i]);
	if (r < 0 || !d->origs[i].nsec)
		return r;
	after = dwarfinfo_layout_change(&d->dorig[i], &d->dfixed[i], &before);
	if (after) {
		char was[128], now[128];

		first_difference(before->layout, after->layout, was, now, sizeof(was));
		r = hp_err(-EINVAL,
			   "the fix changes the layout of struct %s (%s): %llu bytes become "
			   "%llu, first at %s (was %s); running code and live data use the old "
			   "layout, so this cannot be patched live: write a patch source that "
			   "keeps the struct as it is",
			   after->name, d->fixeds[i].file, (unsigned long long)before->size,
			   (unsigned long long)after->size, now, was);
		return keep_refusal(d, r, REFUSAL_LAYOUT, after->name, d->fixeds[i].file);
	}
	return 0;
}

static int compare_objects(struct dbuild *d, size_t i)
{
	if (!d->origs[i].nsec) {
		/* A new source file: every function in it is new. */
		for (size_t s = 1; s < d->fixeds[i].nsec; s++)
			if (osec_is_code(&d->fixeds[i].sec[s]) && d->fixeds[i].sec[s].sh.sh_size) {
				struct obj empty = {0};

				return objdiff_pair(&empty, &d->fixeds[i], &d->changes);
			}
		return 0;
	}
	return objdiff_pair(&d->origs[i], &d->fixeds[i], &d->changes);
}

/* The pair's changes; then, for C++, whether an exception can cross what
 * the patch would carry (last: a changed vtable or layout is the more
 * useful reason). */
static int compare_pair(struct dbuild *d, size_t i)
{
	size_t first = d->changes.n;
	int r = compare_objects(d, i);

	return r < 0 ? r : cxxeh_refuse(&d->changes, first, &d->fixeds[i]);
}

/* @paths with the fixed tree's directory taken out of them (in place). */
static const char *in_tree(const struct dbuild *d, char *paths)
{
	size_t n = strlen(d->fixed);

	for (char *p; n && (p = strstr(paths, d->fixed)) && p[n] == '/';)
		memmove(p, p + n + 1, strlen(p + n + 1) + 1);
	return paths;
}

/* A refusal of an object's code as such (assembly, an IFUNC resolver),
 * never the symptom of a struct layout change elsewhere. */
static bool code_refusal(const struct refusal *r)
{
	return r->kind == REFUSAL_ASM || r->kind == REFUSAL_IFUNC;
}

/* An object refused as a whole (assembly) is named with the sources its
 * line table lists, so the fix that changed one of them can be told. */
static int compare_named(struct dbuild *d, size_t i)
{
	struct refusal *ref = &d->changes.refusal;
	int r = compare_pair(d, i);
	_cleanup_free_ char *files = NULL;
	struct buf text = {0};
	char *save = NULL;

	if (r != -EINVAL || !d->dfixed[i].srcfiles || !code_refusal(ref))
		return r;
	if (!(files = strdup(in_tree(d, d->dfixed[i].srcfiles))))
		return hp_err(-ENOMEM, "out of memory");
	for (char *t = strtok_r(files, ", ", &save); t;
	     t = strtok_r(NULL, ", ", &save)) {
		char **nv = realloc(ref->made_from, (ref->nmade_from + 1) * sizeof(*nv));

		if (!nv)
			return hp_err(-ENOMEM, "out of memory");
		ref->made_from = nv;
		if (!(nv[ref->nmade_from] = strdup(t)))
			return hp_err(-ENOMEM, "out of memory");
		ref->nmade_from++;
	}
	refusal_text(ref, &text);
	r = hp_err(r, "%s", buf_cstr(&text) ? (char *)text.data : "refused");
	buf_free(&text);
	return r;
}


static size_t obj_index(const struct dbuild *d, const struct obj *o)
{
	return (size_t)(o - d->fixeds);
}

/* How many entries report() may hand on: each change, and each function
 * it inlines. */
static size_t report_size(const struct dbuild *d)
{
	size_t n = 0;

	for (size_t i = 0; i < d->changes.n; i++) {
		const struct change *c = &d->changes.v[i];
		const struct dw_func *f = dwarfinfo_func(&d->dfixed[obj_index(d, c->obj)],
							 osec_label(c->obj, c->sec));

		n += 1 + (f ? f->ninlines : 0);
	}
	return n;
}

/* Every source file of the target's objects: their own, and what their line
 * tables list (glibc's regex.c includes regcomp.c). Pointers into @d and
 * into @keep, which the caller frees. */
static size_t source_files(struct dbuild *d, const char **files, size_t max, char ***keep,
			   size_t *nkeep)
{
	size_t n = 0;

	for (size_t i = 0; i < d->nobjs && n < max; i++) {
		char *copy, *save = NULL, **nv;

		if (d->fixeds[i].file)
			files[n++] = d->fixeds[i].file;
		if (!d->dfixed[i].srcfiles || !(copy = strdup(d->dfixed[i].srcfiles)))
			continue;
		nv = realloc(*keep, (*nkeep + 1) * sizeof(*nv));
		if (!nv) {
			free(copy);
			continue;
		}
		*keep = nv;
		nv[(*nkeep)++] = copy;
		for (char *t = strtok_r(copy, ", ", &save); t && n < max; t = strtok_r(NULL, ", ", &save))
			files[n++] = t;
	}
	return n;
}

/* Hands what changed to the caller's report (the per-fix verdicts): each
 * changed function at its own lines, and again at the lines of every
 * function it inlines, since a fix there is what changed it. */
static int report(struct dbuild *d)
{
	size_t max = 1 << 16, n = 0, nfiles, nkeep = 0;
	struct fn_change *v = calloc(report_size(d) + 1, sizeof(*v));
	const char **files = calloc(max, sizeof(*files));
	char **keep = NULL;

	if (!v || !files) {
		free(v);
		free(files);
		return hp_err(-ENOMEM, "out of memory");
	}
	for (size_t i = 0; i < d->changes.n; i++) {
		const struct change *c = &d->changes.v[i];
		const struct dw_info *dw = &d->dfixed[obj_index(d, c->obj)];
		const char *name = osec_label(c->obj, c->sec);
		const struct dw_func *f = dwarfinfo_func(dw, name);

		if (c->kind == CHANGE_CONST)
			continue;
		v[n++] = (struct fn_change){.name = name, .file = f ? f->file : c->obj->file,
					    .line = f ? f->line : 0, .end_line = f ? f->end_line : 0,
					    .why = c->why};
		for (size_t k = 0; f && k < f->ninlines; k++) {
			const struct dw_func *in = dwarfinfo_func(dw, f->inlines[k]);

			if (in && in->file && in->line)
				v[n++] = (struct fn_change){.name = name, .file = in->file,
							    .line = in->line,
							    .end_line = in->end_line, .why = c->why};
		}
	}
	nfiles = source_files(d, files, max, &keep, &nkeep);
	d->o->report(d->o->report_ctx, v, n, files, nfiles, &d->explain, &d->diff.cves,
		     &d->diff.ncves);
	strv_free_n(keep, nkeep);
	free(v);
	free(files);
	return 0;
}

/*
 * @step on every object, stopping at the first error, or with a refusal
 * callback, handing it each refusal (-EINVAL) and going on. @after_layout:
 * struct layouts were refused already, so only refusals that cannot be
 * their symptoms (code outside per-function sections) are handed on.
 * Returns the first refusal's error with its message.
 */
static int each_object(struct dbuild *d, int (*step)(struct dbuild *, size_t), bool after_layout)
{
	_cleanup_free_ char *first = NULL;
	int r = 0;

	for (size_t i = 0; i < d->nobjs; i++) {
		struct refusal *ref = &d->changes.refusal;
		int k;

		refusal_free(ref);
		k = step(d, i);
		if (k == 0)
			continue;
		if (k != -EINVAL || !d->o->refusal)
			return k;
		if (!ref->reason && refusal_init(ref, REFUSAL_OTHER, NULL, d->fixeds[i].file,
						 hp_err_msg(k)) < 0)
			return -ENOMEM;
		if (!after_layout || code_refusal(ref))
			d->o->refusal(d->o->report_ctx, ref);
		if (!first)
			first = strdup(hp_err_msg(k));
		r = k;
	}
	return r < 0 ? hp_err(r, "%s", first ? first : "refused") : 0;
}

static int check_complete(struct dbuild *d);

static int compare(struct dbuild *d)
{
	int r = 0;

	d->dorig = calloc(d->nobjs ? d->nobjs : 1, sizeof(*d->dorig));
	d->dfixed = calloc(d->nobjs ? d->nobjs : 1, sizeof(*d->dfixed));
	if (!d->dorig || !d->dfixed)
		return hp_err(-ENOMEM, "out of memory");
	d->changes.diff = &d->diff;
	/* Layout changes first, in every object: one is the cause to name (a
	 * struct, which its fix's patch mentions), while the code changes it
	 * brings about elsewhere (renumbered statics, say) are only symptoms. */
	r = each_object(d, check_pair, false);
	if (r == 0) {
		r = each_object(d, compare_named, false);
	} else if (r == -EINVAL && d->o->refusal) {
		_cleanup_free_ char *layout = strdup(hp_err_msg(r));

		each_object(d, compare_named, true);
		r = hp_err(r, "%s", layout ? layout : "refused");
	}
	if (r == 0 && !d->changes.n) {
		/* The caller's report still says, per fix, where its change went. */
		if (d->o->report)
			report(d);
		/* "Nothing to patch" is a verdict too: the linked builds must
		 * agree that nothing but benign lines differs. */
		d->check_at = d->explain.len;
		r = check_complete(d);
		if (r == 0)
			r = hp_err(-ENODATA, "the fix changes no code that was built (comments, "
					     "other files, or code the build does not compile?)");
	}
	return r;
}

/* Why a function changed, in words: the diff touched its source, or it
 * inlines a function whose source the diff touched. */
static void explain_change(struct dbuild *d, struct change *c)
{
	const struct dw_info *dw = &d->dfixed[obj_index(d, c->obj)];
	const char *name = osec_label(c->obj, c->sec);
	const struct dw_func *f = dwarfinfo_func(dw, name);
	char why[512];

	if (c->kind != CHANGE_FUNC || !f)
		return;
	if (diff_touches(&d->diff, f->file, f->line, f->end_line)) {
		snprintf(why, sizeof(why), "the diff changes it (%s, from line %u)", f->file,
			 f->line);
	} else {
		const struct dw_func *g = NULL;

		for (size_t i = 0; i < f->ninlines && !g; i++) {
			const struct dw_func *cand = dwarfinfo_func(dw, f->inlines[i]);

			if (cand && diff_touches(&d->diff, cand->file, cand->line, cand->end_line))
				g = cand;
		}
		if (!g)
			return;
		snprintf(why, sizeof(why), "pulled in: it inlines %s(), which the diff changes",
			 g->name);
	}
	free(c->why);
	c->why = strdup(why);
}

static int write_object(struct dbuild *d)
{
	struct patchwrite_result res;
	char path[PATH_MAX + 16];
	int r;

	for (size_t i = 0; i < d->changes.n; i++)
		explain_change(d, &d->changes.v[i]);
	snprintf(path, sizeof(path), "%s/patch.o", d->b.tmp);
	r = patchwrite(path, &d->changes, d->fixeds, d->origs, d->nobjs, &d->b.syms,
		       d->diff.description, d->diff.cves, d->diff.ncves, &res);
	if (r == 0)
		r = build_add_obj(&d->b, path);
	if (r == 0) {
		buf_printf(&d->explain, "%s: %zu function%s replaced, %zu helper%s, %zu skipped, "
					"%zu reference%s to the target's data relocated per process\n",
			   d->o->diff, res.replaced, res.replaced == 1 ? "" : "s", res.helpers,
			   res.helpers == 1 ? "" : "s", res.dropped, res.textrels,
			   res.textrels == 1 ? "" : "s");
		if (d->changes.moved)
			buf_printf(&d->explain, "  %zu function%s left alone: only line numbers "
						"(__LINE__) the diff moved differ\n",
				   d->changes.moved, d->changes.moved == 1 ? "" : "s");
		buf_put(&d->explain, res.explain.data, res.explain.len);
	}
	buf_free(&res.explain);
	return r;
}

/* The linked build of the target in @tree: the file named like it that has
 * a symbol table. */
static int linked_in(const struct dbuild *d, const char *tree, char *ret, size_t len)
{
	int r = srctree_find_output(tree, d->o->c.target, d->o->built_file, ret, len);

	return r < 0 ? hp_err_prefix(r, "the completeness check: ") : 0;
}

/* What the builder knows of inlining, for the check: (callee, caller) for
 * every function each changed function inlines (its DWARF). Pointers into
 * @d, in a malloc'ed array. */
static int inline_pairs(const struct dbuild *d, const char ***ret, size_t *ret_n)
{
	const char **v = NULL;
	size_t n = 0;

	for (size_t i = 0; i < d->changes.n; i++) {
		const struct change *c = &d->changes.v[i];
		const char *name = osec_label(c->obj, c->sec);
		const struct dw_func *f = dwarfinfo_func(&d->dfixed[obj_index(d, c->obj)], name);
		const char **nv;

		if (c->kind == CHANGE_CONST || !f || !f->ninlines)
			continue;
		nv = realloc(v, (n + f->ninlines) * 2 * sizeof(*nv));
		if (!nv) {
			free(v);
			return hp_err(-ENOMEM, "out of memory");
		}
		v = nv;
		for (size_t k = 0; k < f->ninlines; k++, n++) {
			v[2 * n] = f->inlines[k];
			v[2 * n + 1] = name;
		}
	}
	*ret = v;
	*ret_n = n;
	return 0;
}

/* The check's counts, as the bundle's verdict gives them. */
static void counts(const struct completeness_result *res, struct verdict *v)
{
	v->checked = true;
	v->funcs = (struct verdict_counts){
		.compared = res->funcs, .differ = res->funcs_differ, .replaced = res->replaced,
		.cold = res->cold, .inlined = res->inlined, .benign = res->benign_lines,
		.refused = res->refused, .only_new = res->only_new_funcs,
	};
	v->objects = (struct verdict_counts){
		.compared = res->objects, .differ = res->objects_differ, .carried = res->carried,
		.benign = res->benign_version, .only_new = res->only_new_objects,
	};
}

/*
 * Before anything is written: the linked original and fixed builds of the
 * target, compared function by function and object by object, must differ
 * only where the bundle carries the change (completeness.c). It looks at
 * neither the objects nor the pairing that made the patch.
 */
static int check_complete(struct dbuild *d)
{
	char orig[PATH_MAX * 2], fixed[PATH_MAX * 2], patch[PATH_MAX + 16];
	struct completeness_result res;
	struct completeness_input in = {
		.old_code = d->o->linked_orig, .old_syms = d->o->linked_orig_syms,
		.new_code = d->o->linked_fixed, .new_syms = d->o->linked_fixed_syms,
		.patch_obj = patch, .diff = &d->diff, .target = d->o->c.target,
		.collect = d->o->refusal != NULL,
	};
	const char **pairs = NULL;
	int r = 0;

	snprintf(patch, sizeof(patch), "%s/patch.o", d->b.tmp);
	if (!d->changes.n)
		in.patch_obj = NULL; /* nothing replaced */
	if (!in.old_code) {
		r = linked_in(d, d->orig, orig, sizeof(orig));
		in.old_code = orig;
	}
	if (r == 0 && !in.new_code) {
		r = linked_in(d, d->fixed, fixed, sizeof(fixed));
		in.new_code = fixed;
	}
	if (r < 0)
		return r;
	r = inline_pairs(d, &pairs, &in.ninlined);
	if (r < 0)
		return r;
	in.inlined = pairs;
	r = completeness_check(&in, &res);
	free(pairs);
	if (r == 0)
		counts(&res, &d->verdict);
	/* each difference left unaccounted, blamed by its source file on the
	 * fix that changed it, which is then left out; the callback may clear
	 * the error, whose message is the check's verdict */
	if (r == -EINVAL && d->o->refusal && res.nunaccounted) {
		_cleanup_free_ char *msg = strdup(hp_err_msg(r));

		for (size_t i = 0; i < res.nunaccounted; i++)
			d->o->refusal(d->o->report_ctx, &res.unaccounted[i]);
		r = hp_err(r, "%s", msg ? msg : "the completeness check refused the patch");
	}
	buf_put(&d->explain, res.explain.data, res.explain.len);
	completeness_result_free(&res);
	return r;
}

static int file_sha(const char *path, uint8_t out[32], uint8_t **ret_data, size_t *ret_len)
{
	int r = file_read_all(path, 1ULL << 31, ret_data, ret_len);

	if (r == 0)
		crypto_hash_sha256(out, *ret_data, *ret_len);
	return r;
}

/* The fixed file for commit: the fixed tree built the normal way (no added
 * flags), its output for the target stored as a delta against the target. */
static int file_update(struct dbuild *d)
{
	_cleanup_free_ uint8_t *orig = NULL, *fixed = NULL;
	char out[PATH_MAX];
	size_t olen, flen;
	int r;

	if (d->o->fixed_file) {
		snprintf(out, sizeof(out), "%s", d->o->fixed_file);
		r = 0;
	} else {
		snprintf(d->plain, sizeof(d->plain), "%s/plain", d->b.tmp);
		r = srctree_copy(d->o->source_dir, d->plain);
		if (r == 0)
			r = srctree_apply(d->plain, d->o->diff);
		if (r == 0)
			r = srctree_build(&d->tree, d->plain, d->cmd, false,
					  "building the fixed file");
		if (r == 0)
			r = srctree_find_output(d->plain, d->o->c.target, d->o->built_file, out,
						sizeof(out));
	}
	if (r == 0)
		r = file_sha(d->o->c.target, d->b.man.file_sha_orig, &orig, &olen);
	if (r == 0)
		r = file_sha(out, d->b.man.file_sha_fixed, &fixed, &flen);
	if (r == 0)
		r = filedelta_make(orig, olen, fixed, flen, &d->b.file_update);
	if (r < 0)
		return r;
	d->b.man.flags |= MANIFEST_HAS_FILE_UPDATE;
	d->b.man.file_size_fixed = flen;
	d->b.man.file_method = 2; /* zstd delta against the original */
	buf_printf(&d->explain, "file update: %s (%zu bytes), a %zu-byte delta against %s\n", out,
		   flen, d->b.file_update.len, d->o->c.target);
	return 0;
}

/* The bundle's verdict: the check's counts, and the refusals decided
 * before this build (the fixes the caller left out). */
static int verdict_text(struct dbuild *d)
{
	struct buf text = {0};
	int r = 0;

	for (size_t i = 0; r == 0 && i < d->o->nrefused; i++)
		r = verdict_add_refusal(&d->verdict, &d->o->refused[i]);
	for (size_t i = 0; r == 0 && d->o->fixes && i < d->o->fixes->nfixes; i++) {
		const struct fix_outcome *f = &d->o->fixes->fixes[i];

		r = verdict_add_fix(&d->verdict, f->name, f->cves, f->ncves, f->verdict, f->reason);
	}
	if (r == 0 && !d->o->fixes) {
		const char *slash = strrchr(d->o->diff, '/');

		r = verdict_add_fix(&d->verdict, slash ? slash + 1 : d->o->diff, d->diff.cves,
				    d->diff.ncves, "live", NULL);
	}
	if (r < 0)
		return r;
	verdict_encode(&d->verdict, &text);
	if (text.len && buf_cstr(&text))
		d->b.verdict = strdup((char *)text.data);
	r = text.oom || (text.len && !d->b.verdict) ? hp_err(-ENOMEM, "out of memory") : 0;
	buf_free(&text);
	return r;
}

static void dbuild_free(struct dbuild *d)
{
	for (size_t i = 0; i < d->nobjs; i++) {
		obj_close(&d->origs[i]);
		obj_close(&d->fixeds[i]);
		if (d->dorig)
			dwarfinfo_free(&d->dorig[i]);
		if (d->dfixed)
			dwarfinfo_free(&d->dfixed[i]);
	}
	free(d->origs);
	free(d->fixeds);
	free(d->dorig);
	free(d->dfixed);
	changes_free(&d->changes);
	diffparse_free(&d->diff);
	buf_free(&d->explain);
	verdict_free(&d->verdict);
	build_end(&d->b);
}

int build_from_diff(const struct build_diff_opts *o)
{
	struct dbuild d = {.o = o};
	int r;

	if (sodium_init() < 0)
		return hp_err(-ENOTSUP, "libsodium failed to initialise");
	r = build_begin(&d.b, &o->c);
	/* Its CVEs and subject travel in patch.o's .hotpatch.* sections. */
	if (r == 0)
		r = diffparse(o->diff, &d.diff);
	if (r == 0)
		r = trees(&d);
	if (r == 0)
		r = build_both(&d);
	if (r == 0)
		r = open_objects(&d);
	if (r == 0)
		r = compare(&d);
	if (r == 0 && o->report)
		r = report(&d);
	if (r == 0)
		r = write_object(&d);
	if (r == 0)
		r = check_complete(&d);
	if (r == 0 && !o->no_file_update)
		r = file_update(&d);
	if (r == 0)
		r = verdict_text(&d);
	if (r == 0) {
		d.b.explain = buf_cstr(&d.explain) ? strdup((char *)d.explain.data) : NULL;
		r = build_finish(&d.b);
	}
	if (r == 0 && o->explain && d.b.explain)
		progress_explain(d.b.explain);
	else if (r == -ENODATA && o->explain && buf_cstr(&d.explain))
		progress_explain((char *)d.explain.data + d.check_at); /* the check of it */
	dbuild_free(&d);
	return r;
}
