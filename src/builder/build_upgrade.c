/* SPDX-License-Identifier: MIT */
/*
 * hotpatch build --upgrade-to VERSION: a live patch for an installed,
 * stripped, shipped file of a Debian package, made from the fixes between
 * its installed version and VERSION.
 *
 * The pipeline, and what holds after each phase:
 *   1. owner     -> dpkg's database (in the sysroot) named the package, its
 *                   installed version and its source package
 *   2. sources   -> both source packages are extracted (private apt config)
 *   3. fixes     -> the Debian patches VERSION adds, their CVE ids
 *   4. twin      -> the installed version, rebuilt in the clean build root at
 *                   /build/reproducible-path/<source>-<upstream>, reproduces
 *                   the target (exact or code-identical), or we stopped
 *   5. builds    -> both versions built again with per-function sections,
 *                   and the newer one plainly; that build reproduces Debian's
 *                   newer binary, which is then the fixed file for commit,
 *                   or there is none (said why; --no-file-update skips that
 *                   build); every build is kept in the cache and reused
 *   6. diff build -> build_diff.c compares the objects linked into the
 *                   target, pairwise, and writes the bundle; the twin's
 *                   .symtab stands in for the target's missing one
 *   7. verdicts  -> each fix: in the live patch, refused (why), not in this
 *                   file; in --explain and in the bundle
 */
#include <ctype.h>
#include <errno.h>
#include <ftw.h>
#include <glob.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "aptsource.h"
#include "build.h"
#include "buildroot.h"
#include "clock.h"
#include "debpkg.h"
#include "debref.h"
#include "elffile.h"
#include "error.h"
#include "fileio.h"
#include "fixlist.h"
#include "fixread.h"
#include "fixsplit.h"
#include "hex.h"
#include "macro.h"
#include "nofix.h"
#include "paths.h"
#include "runcmd.h"
#include "srctree.h"
#include "twincheck.h"
#include "verdict.h"
#include "progress.h"

#define DIFFABLE_FLAGS "-ffunction-sections -fdata-sections"

struct upgrade {
	const struct build_upgrade_opts *o;
	char cache[PATH_MAX];
	char target[PATH_MAX];  /* host path of the target */
	char target_in_root[PATH_MAX]; /* its path inside the sysroot: on the hosts */
	char sysroot[PATH_MAX];
	struct debpkg pkg;
	char *upstream;
	char *new_label;        /* the newer version, or the installed one + the diff's name */
	struct aptsource apt;
	struct buildroot root;
	char work[PATH_MAX];    /* <cache>/work/<source>: the kept builds */
	char srcs[PATH_MAX];    /* plain extracted sources a/ (installed) and b/ (newer) */
	char old_twin[PATH_MAX], old_diffable[PATH_MAX];
	char new_twin[PATH_MAX], new_diffable[PATH_MAX];
	char twin_file[PATH_MAX], twin_syms[PATH_MAX], fixed_file[PATH_MAX * 2];
	char *fixed_why;        /* what the fixed file is, or why there is none */
	char *debref;           /* the fixed file's package, for commit (debref.h) */
	struct verdict round;   /* every refusal of the last diff build */
	struct verdict blamed;  /* the refusals blamed on fixes so far, fix named */
	struct verdict fixv;    /* each fix's verdict, as the last report() left them */
	char diff[PATH_MAX];
	enum twin_verdict twin;
	char *twin_why;
	struct fixlist fixes;
	int64_t t0;
};

static int locate_target(struct upgrade *u)
{
	const char *root = u->o->sysroot ? u->o->sysroot : "/";
	_cleanup_free_ char *real = realpath(root, NULL);
	const char *t = u->o->c.target;
	char real_in_root[PATH_MAX];
	size_t n;
	int r;

	if (!real)
		return hp_err(-errno, "cannot resolve the sysroot %s: %m", root);
	snprintf(u->sysroot, sizeof(u->sysroot), "%s", strcmp(real, "/") ? real : "");
	n = strlen(u->sysroot);
	/* FILE may be given as the host sees it or as the root sees it. */
	if (n && strncmp(t, u->sysroot, n) == 0 && t[n] == '/')
		t += n;
	/* The path users run may be a link into another package's file
	 * (/usr/bin/prog -> prog-tool, shipped by prog-tools): the real file
	 * is what is patched, and its package is what is rebuilt. Links are
	 * resolved inside the root, never on the host. */
	r = debpkg_resolve_in_root(n ? u->sysroot : "/", t, real_in_root, sizeof(real_in_root));
	if (r < 0)
		return r;
	snprintf(u->target, sizeof(u->target), "%s%s", u->sysroot, real_in_root);
	snprintf(u->target_in_root, sizeof(u->target_in_root), "%s", real_in_root);
	if (access(u->target, R_OK) < 0)
		return hp_err(-errno, "cannot read %s: %m", u->target);
	if (strcmp(real_in_root, t) != 0)
		progress("%s is a link to %s", t, real_in_root);
	return debpkg_owner(n ? u->sysroot : "/", real_in_root, &u->pkg);
}

/* The release of the sysroot (bookworm...), for the build root. */
static void release_of(const char *sysroot, char *ret, size_t len)
{
	char path[PATH_MAX + 32], line[256];
	FILE *f;

	snprintf(ret, len, "bookworm");
	snprintf(path, sizeof(path), "%s/etc/os-release", sysroot);
	f = fopen(path, "re");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, "VERSION_CODENAME=", 17) == 0 && line[17] != '\n')
			snprintf(ret, len, "%.*s", (int)strcspn(line + 17, "\n\""), line + 17);
	fclose(f);
}

static int setup(struct upgrade *u)
{
	char suite[64];
	int r;

	if (u->o->cache)
		snprintf(u->cache, sizeof(u->cache), "%s", u->o->cache);
	else
		snprintf(u->cache, sizeof(u->cache), "%s/var/cache/hotpatch",
			 strcmp(paths()->root, "/") ? paths()->root : "");
	u->upstream = debver_upstream(u->pkg.source_version);
	if (u->o->diff)
		r = asprintf(&u->new_label, "%s+%s", debver_noepoch(u->pkg.source_version),
			     strrchr(u->o->diff, '/') ? strrchr(u->o->diff, '/') + 1 : u->o->diff);
	else
		r = asprintf(&u->new_label, "%s", debver_noepoch(u->o->version));
	if (r < 0 || !u->upstream)
		return hp_err(-ENOMEM, "out of memory");
	snprintf(u->work, sizeof(u->work), "%s/work/%s", u->cache, u->pkg.source);
	snprintf(u->srcs, sizeof(u->srcs), "%s/sources", u->work);
	r = mkdir_p(u->work, 0755);
	if (r < 0)
		return hp_err(r, "cannot create %s: %s", u->work, strerror(-r));
	r = aptsource_init(&u->apt, u->cache, u->o->sources);
	release_of(u->sysroot[0] ? u->sysroot : "/", suite, sizeof(suite));
	if (r == 0)
		r = buildroot_open(&u->root, u->cache, u->o->build_root, suite);
	u->root.profiles = u->o->profiles;
	return r;
}

static int rm_rf(const char *path)
{
	return runcmd((char *[]){"rm", "-rf", (char *)path, NULL}, NULL);
}

/* What a tree to build holds. */
enum tree_kind {
	TREE_PLAIN,   /* a version's source package, as it is (cached) */
	TREE_DIFF,    /* the installed version plus --diff */
	TREE_PARTIAL, /* the installed version plus the fixes not refused so far */
};

/* Applies the fixes not refused so far, in the newer series' order, on the
 * installed version's tree: an added patch is applied, and a part of a patch
 * the newer version changed brings its file as the newer version has it.
 * Its debian/ stays the installed version's, which already counts every
 * patch it holds as applied. */
static bool already_applied(const char *dest, const char *patch)
{
	/* no fuzz: a patch that only nearly reverses is not applied */
	return runcmd((char *[]){"patch", "-R", "-N", "-p1", "--batch", "--silent", "--dry-run",
				 "--fuzz=0", "-d", (char *)dest, "-i", (char *)patch, NULL},
		      &(struct runcmd_opts){.quiet = true}) == 0;
}

/* Keeps refusal @r, blamed on fix @name, for the bundle's verdict. */
static void keep_blamed(struct upgrade *u, const struct refusal *r, const char *name)
{
	struct refusal named;

	if (refusal_copy(r, &named) == 0) {
		free(named.fix);
		named.fix = strdup(name);
		verdict_add_refusal(&u->blamed, &named);
		refusal_free(&named);
	}
	hp_err_clear();
}

/* Refuses fix @f for a reason of its own (not an object's refusal). */
static void refuse_as(struct upgrade *u, struct fix *f, enum refusal_kind kind,
		      const char *reason)
{
	struct refusal r = {0};

	fix_refuse(f, reason);
	if (refusal_init(&r, kind, NULL, f->file, reason) == 0)
		keep_blamed(u, &r, f->name);
	refusal_free(&r);
	hp_err_clear();
}

static int apply_kept(struct upgrade *u, const char *dest)
{
	int r = 0;

	for (size_t i = 0; r == 0 && i < u->fixes.n; i++) {
		struct fix *f = &u->fixes.v[i];
		char old[PATH_MAX * 2], cur[PATH_MAX * 2];

		if (f->verdict == FIX_REFUSED)
			continue;
		if (f->file) {
			/* a part of a split patch: the newer version of its file */
			snprintf(cur, sizeof(cur), "%s/b/%s", u->srcs, f->file);
			snprintf(old, sizeof(old), "%s/%s", dest, f->file);
			r = access(cur, F_OK) == 0
				    ? runcmd((char *[]){"cp", "-p", cur, old, NULL}, NULL)
				    : (unlink(old) < 0 && errno != ENOENT ? -errno : 0);
		} else {
			snprintf(old, sizeof(old), "%s/a/debian/patches/%s", u->srcs, f->name);
			snprintf(cur, sizeof(cur), "%s/b/debian/patches/%s", u->srcs, f->name);
			if (access(old, R_OK) == 0)
				r = runcmd((char *[]){"patch", "-R", "-p1", "--batch", "--silent",
						      "-d", (char *)dest, "-i", old, NULL},
					   &(struct runcmd_opts){.quiet = true});
			/* a part's file, taken whole from the newer version, may
			 * hold this patch already */
			if (r == 0 && !already_applied(dest, cur) && srctree_apply(dest, cur) < 0) {
				/* it was made on top of what is left out */
				hp_err_clear();
				refuse_as(u, f, REFUSAL_NO_APPLY,
					  "it does not apply without the refused fixes: it builds "
					  "on them");
				progress("refused: %s: %s", f->name, f->reason);
			}
		}
		if (r < 0)
			return hp_err_prefix(r, "%s without the refused fixes: %s: ", u->pkg.source,
					     f->name);
	}
	return 0;
}

static int extract(struct upgrade *u, const char *version, enum tree_kind kind, const char *dest)
{
	int r = rm_rf(dest);

	if (r == 0)
		r = aptsource_extract(&u->apt, u->pkg.source,
				      kind == TREE_PLAIN ? version : u->pkg.source_version, dest);
	if (r == 0 && kind == TREE_DIFF)
		r = srctree_apply(dest, u->o->diff);
	if (r == 0 && kind == TREE_PARTIAL)
		r = apply_kept(u, dest);
	return r;
}

/* What a kept build was made with, in its stamp: it is reused only with the
 * same profiles, and a partial tree only for the same fixes left out. */
static void build_key(const struct upgrade *u, enum tree_kind kind, struct buf *key)
{
	if (u->o->profiles)
		buf_printf(key, "profiles %s\n", u->o->profiles);
	for (size_t i = 0; kind == TREE_PARTIAL && i < u->fixes.n; i++)
		if (u->fixes.v[i].verdict == FIX_REFUSED)
			buf_printf(key, "%s\n", u->fixes.v[i].name);
}

/*
 * One build of one version, kept at @keep and reused when its stamp is
 * there. The build itself happens at the path Debian builds in, since some
 * packages embed it; the tree is moved away afterwards so the next build can
 * use the same path.
 */
static int build_tree(struct upgrade *u, const char *version, enum tree_kind kind,
		      const char *cflags, const char *keep, const char *label)
{
	char at[PATH_MAX * 2], stamp[PATH_MAX + 8];
	_cleanup_free_ uint8_t *had = NULL;
	struct buf key = {0};
	size_t len;
	int r;

	build_key(u, kind, &key);
	snprintf(stamp, sizeof(stamp), "%s.ok", keep);
	if (kind != TREE_DIFF && file_read_all(stamp, 1 << 20, &had, &len) == 0 &&
	    len == key.len && (!len || memcmp(had, key.data, len) == 0)) {
		progress("%s: reusing %s", label, keep);
		buf_free(&key);
		return 0;
	}
	snprintf(at, sizeof(at), "%s/%s-%s", u->root.base, u->pkg.source, u->upstream);
	unlink(stamp);
	r = extract(u, version, kind, at);
	if (r == 0)
		r = buildroot_build_deps(&u->root, at);
	if (r == 0)
		r = buildroot_build(&u->root, at, cflags, kind == TREE_PARTIAL, label);
	if (r == 0)
		r = rm_rf(keep);
	if (r == 0 && rename(at, keep) < 0)
		r = hp_err(-errno, "cannot move %s to %s: %m", at, keep);
	if (r == 0 && kind != TREE_DIFF)
		r = file_write_atomic(stamp, key.len ? key.data : (uint8_t *)"", key.len, 0644);
	buf_free(&key);
	return r;
}

static int build_old(struct upgrade *u)
{
	const char *v = u->pkg.source_version;
	char label[256];
	int r;

	snprintf(u->old_twin, sizeof(u->old_twin), "%s/%s-twin", u->work, debver_noepoch(v));
	snprintf(u->old_diffable, sizeof(u->old_diffable), "%s/%s-diffable", u->work,
		 debver_noepoch(v));
	snprintf(label, sizeof(label), "building the twin of %s %s", u->pkg.source, v);
	r = build_tree(u, v, TREE_PLAIN, NULL, u->old_twin, label);
	return r;
}

/* The package's file under @dir, a tree of the package's files (what a build
 * left in debian/<package>/, or an unpacked .deb). */
static int file_under(struct upgrade *u, const char *dir, char *ret, size_t len)
{
	const char *p = u->pkg.path;

	snprintf(ret, len, "%s%s", dir, p);
	if (access(ret, R_OK) == 0)
		return 0;
	/* usrmerge: listed as /bin/x, built as /usr/bin/x, or the other way */
	if (strncmp(p, "/usr/", 5) == 0)
		snprintf(ret, len, "%s%s", dir, p + 4);
	else
		snprintf(ret, len, "%s/usr%s", dir, p);
	if (access(ret, R_OK) == 0)
		return 0;
	return hp_err(-ENOENT, "%s holds no %s of package %s", dir, p, u->pkg.package);
}

/* The package's file as its build left it in debian/<package>/. */
static int packaged_file(struct upgrade *u, const char *tree, char *ret, size_t len)
{
	char dir[PATH_MAX * 2];

	snprintf(dir, sizeof(dir), "%s/debian/%s", tree, u->pkg.package);
	return file_under(u, dir, ret, len) < 0
		       ? hp_err(-ENOENT, "the build of %s made no %s in package %s", tree,
				u->pkg.path, u->pkg.package)
		       : 0;
}

/* The version the build gave the package (a binNMU's is not the source's),
 * from the control file dh_gencontrol wrote. */
static int built_version(struct upgrade *u, const char *tree, char *ret, size_t len)
{
	char path[PATH_MAX * 2], line[512];
	FILE *f;
	int r = -ENOENT;

	snprintf(path, sizeof(path), "%s/debian/%s/DEBIAN/control", tree, u->pkg.package);
	f = fopen(path, "re");
	if (!f)
		return hp_err(-errno, "cannot read %s: %m", path);
	while (r < 0 && fgets(line, sizeof(line), f))
		if (strncmp(line, "Version: ", 9) == 0) {
			snprintf(ret, len, "%.*s", (int)strcspn(line + 9, "\n"), line + 9);
			r = 0;
		}
	fclose(f);
	return r < 0 ? hp_err(r, "%s names no version", path) : 0;
}

static bool find_deb(const char *dir, const char *package, const char *version, char *ret,
		     size_t len)
{
	char pat[PATH_MAX * 2];
	glob_t g;
	bool found;
	char apt[256];

	/* dpkg-buildpackage names it without the epoch (name_1.2-3_amd64.deb),
	 * apt-get download with it, escaped (name_5%3a1.2-3_amd64.deb) */
	debver_apt_filename(version, apt, sizeof(apt));
	for (int form = 0; form < 2; form++) {
		snprintf(pat, sizeof(pat), "%s/%s_%s_*.deb", dir, package,
			 form ? apt : debver_noepoch(version));
		if (glob(pat, 0, NULL, &g) != 0)
			continue;
		found = g.gl_pathc > 0;
		if (found)
			snprintf(ret, len, "%s", g.gl_pathv[0]);
		globfree(&g);
		if (found)
			return true;
	}
	return false;
}

/* Debian's binary package @version: in the local archive given with
 * --sources, else downloaded with the build root's apt. */
static int archive_deb(struct upgrade *u, const char *version, char *ret, size_t len)
{
	char dl[PATH_MAX + 16];
	struct stat st;
	int r;

	if (u->o->sources && stat(u->o->sources, &st) == 0 && S_ISDIR(st.st_mode) &&
	    find_deb(u->o->sources, u->pkg.package, version, ret, len))
		return 0;
	snprintf(dl, sizeof(dl), "%s/hotpatch-debs", u->root.base);
	if (find_deb(dl, u->pkg.package, version, ret, len))
		return 0;
	progress("fetching Debian's %s %s, to check the newer build ...",
		u->pkg.package, version);
	r = buildroot_fetch_binary(&u->root, u->pkg.package, version, dl);
	if (r == 0 && !find_deb(dl, u->pkg.package, version, ret, len))
		r = hp_err(-ENOENT, "apt-get download of %s %s left no .deb in %s",
			   u->pkg.package, version, dl);
	return r;
}

static int set_fixed_why(struct upgrade *u, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int set_fixed_why(struct upgrade *u, const char *fmt, ...)
{
	va_list ap;
	int n;

	free(u->fixed_why);
	va_start(ap, fmt);
	n = vasprintf(&u->fixed_why, fmt, ap);
	va_end(ap);
	if (n < 0) {
		u->fixed_why = NULL;
		return hp_err(-ENOMEM, "out of memory");
	}
	return 0;
}

/* SHA-256 and size of @path, read in chunks (a .deb can be large). */
static int hash_file(const char *path, uint8_t sha[32], uint64_t *ret_size)
{
	crypto_hash_sha256_state st;
	uint8_t chunk[65536];
	uint64_t size = 0;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return hp_err(-errno, "cannot read %s: %m", path);
	crypto_hash_sha256_init(&st);
	while ((n = read(fd, chunk, sizeof(chunk))) > 0) {
		crypto_hash_sha256_update(&st, chunk, (size_t)n);
		size += (uint64_t)n;
	}
	close(fd);
	if (n < 0)
		return hp_err(-EIO, "cannot read %s", path);
	crypto_hash_sha256_final(&st, sha);
	*ret_size = size;
	return 0;
}

/* The package record commit installs with dpkg: @deb is Debian's .deb of
 * @version, whose file is the fixed file; its architecture is in its name
 * (package_version_arch.deb, as apt and dpkg-buildpackage name it). */
static int set_debref(struct upgrade *u, const char *deb, const char *version)
{
	struct debref d = {0};
	const char *under = strrchr(deb, '_'), *dot = strrchr(deb, '.');
	int r;

	if (!under || !dot || dot < under || (size_t)(dot - under) >= sizeof(d.arch))
		return hp_err(-EINVAL, "%s is not named package_version_arch.deb", deb);
	snprintf(d.package, sizeof(d.package), "%s", u->pkg.package);
	snprintf(d.version, sizeof(d.version), "%s", version);
	snprintf(d.from_version, sizeof(d.from_version), "%s", u->pkg.version);
	snprintf(d.arch, sizeof(d.arch), "%.*s", (int)(dot - under - 1), under + 1);
	r = hash_file(deb, d.sha256, &d.size);
	free(u->debref);
	u->debref = NULL;
	if (r == 0)
		r = debref_format(&d, &u->debref);
	return r;
}

/*
 * The fixed file for commit is Debian's own newer file, and only when the
 * newer version's build reproduces it (the same check as the twin's): then
 * the build is proven, and a commit leaves on disk exactly what an upgrade
 * would. Otherwise there is no fixed file, and the patch stays live-only;
 * that is said, not an error, since the live patch itself does not depend
 * on it.
 */
static int check_fixed_file(struct upgrade *u)
{
	char version[256], deb[PATH_MAX * 2], dir[PATH_MAX + 16], twin[PATH_MAX * 2];
	_cleanup_free_ char *why = NULL;
	enum twin_verdict v = TWIN_REFUSED;
	int r = packaged_file(u, u->new_twin, twin, sizeof(twin));

	u->fixed_file[0] = 0;
	snprintf(dir, sizeof(dir), "%s/%s-archive", u->work, u->new_label);
	if (r == 0)
		r = built_version(u, u->new_twin, version, sizeof(version));
	if (r == 0)
		r = archive_deb(u, version, deb, sizeof(deb));
	if (r == 0)
		r = rm_rf(dir);
	if (r == 0)
		r = runcmd((char *[]){"dpkg-deb", "-x", deb, dir, NULL}, NULL);
	if (r == 0)
		r = file_under(u, dir, u->fixed_file, sizeof(u->fixed_file));
	if (r == 0)
		r = twincheck(u->fixed_file, twin, &v, &why);
	if (r < 0 || v == TWIN_REFUSED) {
		u->fixed_file[0] = 0;
		r = r < 0 ? set_fixed_why(u, "none, so commit cannot make this patch permanent "
					     "(upgrade the package instead): %s", hp_err_msg(r))
			  : set_fixed_why(u, "none, so commit cannot make this patch permanent "
					     "(upgrade the package instead): the build of %s %s does "
					     "not reproduce Debian's: %s",
					  u->pkg.package, version, why);
		progress("fixed file: %s", u->fixed_why);
		return r;
	}
	r = set_fixed_why(u, "Debian's %s %s itself, which the build of that version reproduces "
			     "(%s: %s); commit installs that package with dpkg when its .deb is "
			     "at hand",
			  u->pkg.package, version, twin_verdict_name(v), why);
	if (r == 0)
		r = set_debref(u, deb, version);
	progress("fixed file: %s", u->fixed_why);
	return r;
}

/* --diff: no archive has the fixed version; the fixed file is the build of
 * the installed version plus the diff, in the root whose twin reproduced
 * the target. */
static int diff_fixed_file(struct upgrade *u)
{
	int r = packaged_file(u, u->new_twin, u->fixed_file, sizeof(u->fixed_file));

	if (r < 0)
		return r;
	return set_fixed_why(u, "the installed version plus %s, built in the same root as the "
				"twin that reproduced %s", u->o->diff, u->target);
}

static int build_new(struct upgrade *u)
{
	const char *v = u->o->diff ? u->pkg.source_version : u->o->version;
	enum tree_kind d = u->o->diff ? TREE_DIFF : TREE_PLAIN;
	char label[256];
	int r;

	snprintf(u->new_twin, sizeof(u->new_twin), "%s/%s-twin", u->work, u->new_label);
	snprintf(u->new_diffable, sizeof(u->new_diffable), "%s/%s-diffable", u->work, u->new_label);
	snprintf(u->old_diffable, sizeof(u->old_diffable), "%s/%s-diffable", u->work,
		 debver_noepoch(u->pkg.source_version));
	snprintf(label, sizeof(label), "building %s %s for comparison", u->pkg.source,
		 debver_noepoch(u->pkg.source_version));
	r = build_tree(u, u->pkg.source_version, TREE_PLAIN, DIFFABLE_FLAGS, u->old_diffable,
		       label);
	snprintf(label, sizeof(label), "building %s %s for comparison", u->pkg.source, u->new_label);
	if (r == 0)
		r = build_tree(u, v, d, DIFFABLE_FLAGS, u->new_diffable, label);
	/* The plain build is only for the fixed file: a whole build saved
	 * when the bundle is to have none. */
	if (r < 0 || u->o->no_file_update) {
		u->fixed_file[0] = 0;
		return r < 0 ? r
			     : set_fixed_why(u, "none (--no-file-update), so commit cannot make "
						"this patch permanent");
	}
	snprintf(label, sizeof(label), "building %s %s (the fixed file)", u->pkg.source,
		 u->new_label);
	r = build_tree(u, v, d, NULL, u->new_twin, label);
	if (r == 0)
		r = u->o->diff ? diff_fixed_file(u) : check_fixed_file(u);
	return r;
}

/* The debug file a build in @tree made for @file, found by build-id:
 * dh_strip's dbgsym, or a -dbg package's (glibc's libc6-dbg). */
static int debug_file(const char *tree, const char *file, char *ret, size_t len)
{
	static const char *const where[] = {
		"debian/.debhelper/*/dbgsym-root/usr/lib/debug",
		"debian/*/usr/lib/debug",
	};
	struct elf_file *ef = NULL;
	uint8_t id[64];
	char hex[130], pat[PATH_MAX * 2];
	size_t idlen;
	glob_t g;
	int r = elf_file_open(file, &ef);

	if (r == 0)
		r = elf_file_build_id(ef, id, &idlen);
	elf_file_close(ef);
	if (r < 0)
		return hp_err_prefix(r, "%s: ", file);
	hex_encode(id, idlen, hex);
	for (size_t i = 0; i < ARRAY_SIZE(where); i++) {
		snprintf(pat, sizeof(pat), "%s/%s/.build-id/%.2s/%s.debug", tree, where[i], hex,
			 hex + 2);
		if (glob(pat, 0, NULL, &g) == 0 && g.gl_pathc) {
			snprintf(ret, len, "%s", g.gl_pathv[0]);
			globfree(&g);
			return 0;
		}
		globfree(&g);
	}
	return hp_err(-ENOENT, "the build left no debug symbols for %s (no dbgsym or -dbg "
			       "file with build-id %s); hotpatch needs the static functions' symbols",
		      file, hex);
}

/* The twin with its symbols. */
static int twin_symbols(struct upgrade *u)
{
	return debug_file(u->old_twin, u->twin_file, u->twin_syms, sizeof(u->twin_syms));
}

/* The packaged target of a diffable build, with its debug file, for the
 * completeness check. */
static int linked_build(struct upgrade *u, const char *tree, char *file, char *syms, size_t len)
{
	int r = packaged_file(u, tree, file, len);

	return r < 0 ? r : debug_file(tree, file, syms, len);
}

static int check_twin(struct upgrade *u)
{
	int r = packaged_file(u, u->old_twin, u->twin_file, sizeof(u->twin_file));

	if (r == 0)
		r = twincheck(u->target, u->twin_file, &u->twin, &u->twin_why);
	if (r < 0)
		return r;
	progress("twin check: %s: %s", twin_verdict_name(u->twin), u->twin_why);
	if (u->twin == TWIN_REFUSED)
		return hp_err(-EINVAL, "%s; nothing was built and %s is untouched", u->twin_why,
			      u->target);
	return twin_symbols(u);
}

/* The diff from the installed version's plain sources (srcs/a) to srcs/@to,
 * the Debian packaging left out, headed by the kept fixes' CVE ids. */
static int write_diff(struct upgrade *u, const char *to)
{
	char script[PATH_MAX * 3];
	struct buf head = {0};
	int r;

	buf_printf(&head, "Description: %s %s -> %s, %zu fix%s\n", u->pkg.source,
		   u->pkg.source_version, u->new_label, u->fixes.n, u->fixes.n == 1 ? "" : "es");
	for (size_t i = 0; i < u->fixes.n; i++)
		for (size_t k = 0; u->fixes.v[i].verdict != FIX_REFUSED &&
				   k < u->fixes.v[i].diff.ncves; k++)
			buf_printf(&head, "CVE: %s\n", u->fixes.v[i].diff.cves[k]);
	buf_printf(&head, "---\n");
	snprintf(u->diff, sizeof(u->diff), "%s/%s_%s.diff", u->work,
		 debver_noepoch(u->pkg.source_version), u->new_label);
	r = file_write_atomic(u->diff, head.data, head.len, 0644);
	buf_free(&head);
	snprintf(script, sizeof(script),
		 "cd '%s' && diff -ruN -x debian -x .pc a '%s' >> '%s'; test $? -le 1", u->srcs,
		 to, u->diff);
	if (r == 0)
		r = runcmd((char *[]){"sh", "-c", script, NULL}, NULL);
	return r < 0 ? hp_err(r, "cannot diff the two versions' sources in %s", u->srcs) : 0;
}

/* The sources of both versions, plain, the fixes between them, and the
 * diff. */
static int make_diff(struct upgrade *u)
{
	char a[PATH_MAX + 4], b[PATH_MAX + 4], split[PATH_MAX + 8];
	int r;

	snprintf(split, sizeof(split), "%s/split", u->srcs);
	snprintf(a, sizeof(a), "%s/a", u->srcs);
	snprintf(b, sizeof(b), "%s/b", u->srcs);
	r = extract(u, u->pkg.source_version, TREE_PLAIN, a);
	if (r == 0)
		r = extract(u, u->o->diff ? u->pkg.source_version : u->o->version,
			    u->o->diff ? TREE_DIFF : TREE_PLAIN, b);
	if (r == 0)
		r = fixlist_read(a, b, u->pkg.source_version, split, &u->fixes);
	if (r < 0)
		return r;
	if (u->o->diff && !u->fixes.n) {
		/* --diff: the one fix is the given diff */
		u->fixes.v = calloc(1, sizeof(*u->fixes.v));
		if (!u->fixes.v)
			return hp_err(-ENOMEM, "out of memory");
		u->fixes.v[0].name = strdup(strrchr(u->o->diff, '/') ? strrchr(u->o->diff, '/') + 1
								     : u->o->diff);
		r = diffparse(u->o->diff, &u->fixes.v[0].diff);
		u->fixes.n = r == 0;
		if (r < 0)
			return r;
	}
	return write_diff(u, "b");
}

/* The bundle claims the CVE ids of the fixes it carries, no others. */
static void narrow_cves(struct upgrade *u, char ***cves, size_t *ncves)
{
	struct diff_info kept = {0};

	for (size_t i = 0; i < u->fixes.n; i++)
		for (size_t k = 0; u->fixes.v[i].verdict == FIX_IN_PATCH &&
				   k < u->fixes.v[i].diff.ncves; k++)
			diffparse_add_cves(&kept, u->fixes.v[i].diff.cves[k]);
	for (size_t i = 0; i < *ncves; i++)
		free((*cves)[i]);
	free(*cves);
	*cves = kept.cves;
	*ncves = kept.ncves;
}

static void report(void *ctx, const struct fn_change *v, size_t n, const char *const *files,
		   size_t nfiles, struct buf *explain, char ***cves, size_t *ncves)
{
	struct upgrade *u = ctx;

	fixlist_assign(&u->fixes, v, n, files, nfiles);
	verdict_free(&u->fixv);
	fixlist_verdicts(&u->fixes, &u->fixv); /* out of memory: the bundle lists none */
	hp_err_clear();
	narrow_cves(u, cves, ncves);
	buf_printf(explain, "package %s %s (source %s), fixes from %s\n", u->pkg.package,
		   u->pkg.version, u->pkg.source, u->new_label);
	buf_printf(explain, "twin check: %s: %s\n", twin_verdict_name(u->twin), u->twin_why);
	fixlist_explain(&u->fixes, explain);
	buf_printf(explain, "fixed file: %s\n", u->fixed_why);
	if (fixlist_count(&u->fixes, FIX_REFUSED) && u->fixed_file[0])
		buf_printf(explain, "  (it has every fix, the refused ones too: a process started "
				    "after commit gets them all)\n");
}

static void collect_refusal(void *ctx, const struct refusal *r)
{
	struct upgrade *u = ctx;

	verdict_add_refusal(&u->round, r);
	hp_err_clear();
}

static int diff_build(struct upgrade *u)
{
	char old_file[PATH_MAX * 2], old_syms[PATH_MAX * 2], new_file[PATH_MAX * 2],
		new_syms[PATH_MAX * 2];
	int r;

	verdict_free(&u->round);
	r = linked_build(u, u->old_diffable, old_file, old_syms, sizeof(old_file));
	if (r == 0)
		r = linked_build(u, u->new_diffable, new_file, new_syms, sizeof(new_file));
	if (r < 0)
		return hp_err_prefix(r, "the completeness check: ");
	struct build_diff_opts d = {
		.c = u->o->c,
		.source_dir = u->old_diffable,
		.diff = u->diff,
		.explain = u->o->explain,
		.orig_tree = u->old_diffable,
		.fixed_tree = u->new_diffable,
		.fixed_file = u->fixed_file,
		.no_file_update = !u->fixed_file[0],
		.target_objs_only = true,
		.linked_orig = old_file,
		.linked_orig_syms = old_syms,
		.linked_fixed = new_file,
		.linked_fixed_syms = new_syms,
		.report = report,
		.refusal = collect_refusal,
		.report_ctx = u,
		.refused = u->blamed.refusals,
		.nrefused = u->blamed.nrefusals,
		.fixes = &u->fixv,
	};
	d.c.target = u->target;
	d.c.target_path = u->target_in_root;
	d.c.debuginfo = u->twin_syms;
	d.c.debuginfo_is_twin = true;
	d.c.debref = u->fixed_file[0] ? u->debref : NULL;
	return build_from_diff(&d);
}

static bool ident_char(uint8_t c)
{
	return isalnum(c) || c == '_';
}

/* Does fix @f's patch text mention @name, as a whole identifier? (A
 * refusal blaming struct pthread is not about pthread_mutex_trylock.) */
static bool patch_mentions(const struct fix *f, const char *name)
{
	_cleanup_free_ uint8_t *text = NULL;
	size_t len, n = strlen(name);

	if (file_read_all(f->path, 1 << 26, &text, &len) < 0)
		return false;
	for (const uint8_t *p = text; (p = memmem(p, len - (size_t)(p - text), name, n));
	     p += n)
		if ((p == text || !ident_char(p[-1])) &&
		    ((size_t)(p - text) + n == len || !ident_char(p[n])))
			return true;
	return false;
}

/* Refuses fix @f for refusal @r: its verdict says why, in the refusal's
 * words, and the bundle's verdict keeps the refusal with the fix named. */
static void blame(struct upgrade *u, struct fix *f, const struct refusal *r)
{
	struct buf text = {0};

	refusal_text(r, &text);
	fix_refuse(f, buf_cstr(&text) ? (char *)text.data : refusal_kind_name(r->kind));
	buf_free(&text);
	keep_blamed(u, r, f->name);
}

/*
 * A refusal of an object's code as such lists the sources it was made from,
 * its own first, then what it includes in the order it does: the first of
 * them a fix changed is the one to blame (memset-vec-unaligned-erms.S for
 * memset-avx2-unaligned-erms.S), not every changed header it includes.
 */
static size_t implicate_made_from(struct upgrade *u, const struct refusal *r)
{
	for (size_t m = 0; m < r->nmade_from; m++)
		for (size_t i = 0; i < u->fixes.n; i++) {
			struct fix *f = &u->fixes.v[i];

			if (!f->file || strcmp(f->file, r->made_from[m]) != 0)
				continue;
			if (f->verdict == FIX_REFUSED)
				return 0; /* blamed already, from another object */
			blame(u, f, r);
			return 1;
		}
	return 0;
}

/* Whether a refusal of this kind names a symbol a fix's patch would
 * mention (a struct, a variable), rather than code only its file tells. */
static bool blames_by_name(const struct refusal *r)
{
	return r->symbol && (r->kind == REFUSAL_LAYOUT || r->kind == REFUSAL_DATA ||
			     r->kind == REFUSAL_TLS || r->kind == REFUSAL_RENUMBERED);
}

/* The fixes a refusal names are refused with it: the ones whose patch
 * mentions what it blames, else the ones changing the file it names (the
 * completeness check names the full source path). Returns how many. */
static size_t implicate(struct upgrade *u, const struct refusal *r)
{
	bool by_name = blames_by_name(r);
	size_t n = 0;

	/* not about what a fix changed (LTO, an unreadable object): no blame */
	if (r->kind == REFUSAL_OTHER)
		return 0;
	if (r->nmade_from)
		return implicate_made_from(u, r);
	/* blamed already (the same struct, seen from another object) */
	for (size_t i = 0; by_name && i < u->fixes.n; i++)
		if (u->fixes.v[i].verdict == FIX_REFUSED && patch_mentions(&u->fixes.v[i], r->symbol))
			return 0;
	for (int pass = by_name ? 0 : 1; pass < 2 && !n; pass++)
		for (size_t i = 0; i < u->fixes.n; i++) {
			struct fix *f = &u->fixes.v[i];

			if (f->verdict == FIX_REFUSED)
				continue;
			if (pass == 0 ? !patch_mentions(f, r->symbol) : !fix_touches_source(f, r->source))
				continue;
			blame(u, f, r);
			n++;
		}
	return n;
}

/* The parts fixsplit_dependents() refused with them (they use what a
 * refused part brings) join the bundle's refusals. */
static void note_dependents(struct upgrade *u)
{
	for (size_t i = 0; i < u->fixes.n; i++) {
		struct fix *f = &u->fixes.v[i];
		bool known = false;
		struct refusal r;

		if (f->verdict != FIX_REFUSED)
			continue;
		for (size_t k = 0; k < u->blamed.nrefusals && !known; k++)
			known = u->blamed.refusals[k].fix &&
				strcmp(u->blamed.refusals[k].fix, f->name) == 0;
		if (known || refusal_init(&r, REFUSAL_DEPENDS, NULL, f->file, f->reason) < 0)
			continue;
		keep_blamed(u, &r, f->name);
		refusal_free(&r);
	}
	hp_err_clear();

}

/*
 * The live patch was refused because of some fixes
 (a struct layout change,
 * say): build the fixed trees again from the installed version's sources
 * with every other fix, so the rest still get patched.
 */
static int without_refused(struct upgrade *u)
{
	char label[256], c[PATH_MAX + 4];
	int r;

	struct buf key = {0};
	uint64_t h = 0xcbf29ce484222325ULL; /* FNV-1a */

	/* one kept build per set of fixes left out, so that every round of a
	 * later run finds its own */
	build_key(u, TREE_PARTIAL, &key);
	for (size_t i = 0; i < key.len; i++)
		h = (h ^ key.data[i]) * 0x100000001b3ULL;
	buf_free(&key);
	snprintf(u->new_diffable, sizeof(u->new_diffable), "%s/%s-partial-%08" PRIx64 "-diffable",
		 u->work, u->new_label, h & 0xffffffffu);
	snprintf(label, sizeof(label), "building %s %s without the refused fixes, for comparison",
		 u->pkg.source, u->new_label);
	r = build_tree(u, NULL, TREE_PARTIAL, DIFFABLE_FLAGS, u->new_diffable, label);
	snprintf(c, sizeof(c), "%s/c", u->srcs);
	if (r == 0)
		r = extract(u, NULL, TREE_PARTIAL, c);
	return r == 0 ? write_diff(u, "c") : r;
}

/* Builds the live patch, leaving out the fixes its refusals name, as long as
 * some are left. */
static int diff_build_all(struct upgrade *u)
{
	int r = diff_build(u);

	for (int round = 0; r < 0 && r != -ENODATA && !u->o->diff && round < 4; round++) {
		_cleanup_free_ char *msg = strdup(hp_err_msg(r));
		size_t left, n = 0;
		char deps[PATH_MAX + 8], a[PATH_MAX + 4];

		/* every object's refusal of this round (the one returned is
		 * among them), so one rebuild leaves all their fixes out */
		for (size_t i = 0; i < u->round.nrefusals; i++)
			if (implicate(u, &u->round.refusals[i])) {
				struct buf text = {0};

				refusal_text(&u->round.refusals[i], &text);
				progress("refused: %s",
					buf_cstr(&text) ? (char *)text.data : "");
				buf_free(&text);
				n++;
			}

		if (!n)
			break;
		snprintf(deps, sizeof(deps), "%s/deps", u->srcs);
		snprintf(a, sizeof(a), "%s/a", u->srcs);
		n = fixsplit_dependents(&u->fixes, a, deps);
		note_dependents(u);
		if (n)
			progress("refused with them: %zu part%s that use what they "
					"bring", n, n == 1 ? "" : "s");
		left = u->fixes.n - fixlist_count(&u->fixes, FIX_REFUSED);
		progress("trying again with the other %zu fix%s", left,
			left == 1 ? "" : "es");
		if (!left)
			return hp_err(-EINVAL, "%s", msg);
		r = without_refused(u);
		if (r == 0)
			r = diff_build(u);
	}
	return r;
}

/* No bundle: still say, per fix, why. */
static int print_refusal(struct upgrade *u, int r)
{
	struct buf out = {0};

	if (r == -ENODATA && fixlist_count(&u->fixes, FIX_REFUSED)) {
		r = hp_err(-EINVAL, "every fix between %s and %s that changes the code of %s was "
				    "refused (the verdicts say why): nothing to patch live; upgrade "
				    "the package instead",
			   u->pkg.source_version, u->new_label, u->target);
	} else if (r == -ENODATA) {
		r = hp_err(-ENODATA, "none of the %zu fixes between %s and %s changes the code of "
				     "%s as the package builds it: nothing to patch",
			   u->fixes.n, u->pkg.source_version, u->new_label, u->target);
	} else {
		_cleanup_free_ char *why = strdup(hp_err_msg(r));

		fixlist_refuse(&u->fixes, why ? why : "out of memory");
	}
	buf_printf(&out, "package %s %s (source %s), fixes from %s\n", u->pkg.package,
		   u->pkg.version, u->pkg.source, u->new_label);
	buf_printf(&out, "twin check: %s: %s\n", twin_verdict_name(u->twin), u->twin_why);
	fixlist_explain(&u->fixes, &out);
	if (u->o->explain && buf_cstr(&out))
		progress_explain((char *)out.data);
	buf_free(&out);
	return r;
}

/* "Nothing to patch" published (--no-fix-record): the build host's verdict
 * for the hosts, so that their catch-up says "no fix needed" for this build
 * rather than "bundle missing" (nofix.h). */
static int write_no_fix(struct upgrade *u)
{
	struct nofix n = {.created = (uint64_t)time(NULL)};
	struct elf_file *ef = NULL;
	struct buf out = {0};
	uint8_t id[64];
	size_t idlen;
	int r = elf_file_open(u->target, &ef);

	if (r == 0)
		r = elf_file_build_id(ef, id, &idlen);
	elf_file_close(ef);
	if (r < 0)
		return hp_err_prefix(r, "%s: ", u->target);
	hex_encode(id, idlen, n.build_id);
	snprintf(n.target, sizeof(n.target), "%s", u->target_in_root);
	snprintf(n.package, sizeof(n.package), "%s", u->pkg.package);
	snprintf(n.from, sizeof(n.from), "%s", u->pkg.version);
	snprintf(n.to, sizeof(n.to), "%s", u->o->version);
	r = fixlist_verdicts(&u->fixes, &n.v);
	if (r == 0) {
		nofix_encode(&n, &out);
		r = file_write_atomic(u->o->no_fix_record, out.data, out.len, 0644);
	}
	buf_free(&out);
	verdict_free(&n.v);
	return r < 0 ? hp_err_prefix(r, "writing %s: ", u->o->no_fix_record) : 0;
}

int build_from_upgrade(const struct build_upgrade_opts *o)
{
	struct upgrade u = {.o = o, .t0 = now_ns()};
	int r;

	r = locate_target(&u);
	if (r == 0) {
		progress("%s belongs to %s %s (source %s %s)", u.target,
			u.pkg.package, u.pkg.version, u.pkg.source, u.pkg.source_version);
		r = setup(&u);
	}
	if (r == 0)
		r = make_diff(&u);
	if (r == 0)
		r = build_old(&u);
	if (r == 0)
		r = check_twin(&u);
	if (r == 0)
		r = build_new(&u);
	if (r == 0) {
		r = diff_build_all(&u);
		if (r < 0)
			r = print_refusal(&u, r);
		/* nothing to patch, nothing refused: a verdict, not a failure */
		if (r == -ENODATA && o->no_fix_record && !o->diff) {
			progress("%s", hp_err_msg(r));
			r = write_no_fix(&u);
			if (r == 0)
				r = BUILD_NO_FIX;
		}
	}
	if (r == 0)
		progress("upgrade build done in %.1f s",
			(double)(now_ns() - u.t0) / NSEC_PER_SEC);
	fixlist_free(&u.fixes);
	debpkg_free(&u.pkg);
	free(u.upstream);
	free(u.new_label);
	free(u.twin_why);
	free(u.fixed_why);
	free(u.debref);
	verdict_free(&u.round);
	verdict_free(&u.blamed);
	verdict_free(&u.fixv);
	return r;

}
