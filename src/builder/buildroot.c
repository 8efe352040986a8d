/* SPDX-License-Identifier: MIT */
#include "buildroot.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "aptsource.h"
#include "clock.h"
#include "error.h"
#include "fileio.h"
#include "macro.h"
#include "runcmd.h"
#include "progress.h"

static int make_root(const char *root, const char *suite, const char *log)
{
	_cleanup_free_ char *mirrors = NULL;
	char tmp[PATH_MAX + 8];
	char *argv[16] = {"mmdebstrap", "--variant=buildd", "--include=apt,dpkg-dev,fakeroot",
			  (char *)suite, tmp};
	size_t n = 5;
	int r = aptsource_mirrors(&mirrors);

	if (r < 0)
		return r;
	/* Only the suites of the release: bookworm, bookworm-updates, ... */
	for (char *save = NULL, *l = strtok_r(mirrors, "\n", &save); l && n < ARRAY_SIZE(argv) - 1;
	     l = strtok_r(NULL, "\n", &save)) {
		char uri[512], s[128];

		if (sscanf(l, "deb %511s %127s", uri, s) == 2 && strncmp(s, suite, strlen(suite)) == 0)
			argv[n++] = l;
	}
	argv[n] = NULL;
	snprintf(tmp, sizeof(tmp), "%s.tmp", root);
	progress("making a %s build root in %s (once) ...", suite, root);
	r = runcmd((char *[]){"rm", "-rf", tmp, NULL}, NULL);
	if (r == 0)
		r = runcmd(argv, &(struct runcmd_opts){.log = log});
	if (r < 0)
		return hp_err(r, "mmdebstrap of %s failed; see %s", suite, log);
	if (rename(tmp, root) < 0)
		return hp_err(-errno, "cannot rename %s: %m", tmp);
	return 0;
}

int buildroot_open(struct buildroot *b, const char *cache, const char *root, const char *suite)
{
	char roots[PATH_MAX];
	int r;

	*b = (struct buildroot){0};
	snprintf(b->log, sizeof(b->log), "%s/build.log", cache);
	b->host = root && strcmp(root, "/") == 0;
	if (b->host) {
		snprintf(b->root, sizeof(b->root), "/");
		snprintf(b->base, sizeof(b->base), "%s/build/reproducible-path", cache);
		snprintf(b->inroot, sizeof(b->inroot), "%s", b->base);
		return mkdir_p(b->base, 0755);
	}
	if (geteuid() != 0)
		return hp_err(-EPERM, "building in a clean root needs root (mmdebstrap, chroot, a "
				      "private mount namespace); run as root, or build on the host "
				      "with --build-root /");
	if (root) {
		snprintf(b->root, sizeof(b->root), "%s", root);
	} else {
		snprintf(roots, sizeof(roots), "%s/roots", cache);
		r = mkdir_p(roots, 0755);
		if (r < 0)
			return hp_err(r, "cannot create %s", roots);
		snprintf(b->root, sizeof(b->root), "%s/%s", roots, suite);
		if (access(b->root, F_OK) < 0) {
			r = make_root(b->root, suite, b->log);
			if (r < 0)
				return r;
		}
	}
	snprintf(b->base, sizeof(b->base), "%s/build/reproducible-path", b->root);
	snprintf(b->inroot, sizeof(b->inroot), "/build/reproducible-path");
	return mkdir_p(b->base, 0755);
}

/* The path of host path @dir (under b->base) as the build sees it. */
static void in_root(const struct buildroot *b, const char *dir, char *ret, size_t len)
{
	size_t n = strlen(b->base);

	snprintf(ret, len, "%s%s", b->inroot, strncmp(dir, b->base, n) == 0 ? dir + n : "");
}

/* Runs @script in the root: chrooted, with its own /proc in a private mount
 * namespace so nothing stays mounted, and with a clean environment. */
static int run(const struct buildroot *b, const char *script, const char *const env[])
{
	char *argv[32];
	size_t n = 0;

	if (b->host) {
		argv[n++] = "env";
		argv[n++] = "-i";
		argv[n++] = "PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin";
	} else {
		argv[n++] = "unshare";
		argv[n++] = "--mount";
		argv[n++] = "--propagation";
		argv[n++] = "private";
		argv[n++] = "--";
		argv[n++] = "sh";
		argv[n++] = "-c";
		argv[n++] = "mount -t proc proc \"$1/proc\" || exit 1; r=$1; shift; "
			    "exec chroot \"$r\" \"$@\"";
		argv[n++] = "sh";
		argv[n++] = (char *)b->root;
		argv[n++] = "env";
		argv[n++] = "-i";
		argv[n++] = "PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin";
	}
	argv[n++] = "HOME=/root";
	argv[n++] = "LC_ALL=C.UTF-8";
	argv[n++] = "DEBIAN_FRONTEND=noninteractive";
	for (size_t i = 0; env && env[i] && n < ARRAY_SIZE(argv) - 4; i++)
		argv[n++] = (char *)env[i];
	argv[n++] = "sh";
	argv[n++] = "-c";
	argv[n++] = (char *)script;
	argv[n] = NULL;
	return runcmd(argv, &(struct runcmd_opts){.log = b->log});
}

/* apt inside the root needs the host's resolver and fresh package lists. */
static int refresh_lists(const struct buildroot *b)
{
	char path[PATH_MAX + 32];
	_cleanup_free_ uint8_t *resolv = NULL;
	size_t len;
	int r;

	snprintf(path, sizeof(path), "%s/etc/resolv.conf", b->root);
	if (file_read_all("/etc/resolv.conf", 1 << 16, &resolv, &len) == 0)
		file_write_atomic(path, resolv, len, 0644);
	snprintf(path, sizeof(path), "%s/var/lib/apt/lists/hotpatch-updated", b->root);
	if (access(path, F_OK) == 0)
		return 0;
	r = run(b, "apt-get -q update", NULL);
	if (r < 0)
		return hp_err(r, "apt-get update in the build root %s failed; see %s", b->root,
			      b->log);
	return file_write_atomic(path, "", 0, 0644);
}

int buildroot_build_deps(const struct buildroot *b, const char *dir)
{
	char where[PATH_MAX], script[PATH_MAX * 2];
	int r;

	in_root(b, dir, where, sizeof(where));
	if (b->host) {
		snprintf(script, sizeof(script), "cd '%s' && dpkg-checkbuilddeps%s%s", where,
			 b->profiles ? " -P " : "", b->profiles ? b->profiles : "");
		r = run(b, script, NULL);
		return r < 0 ? hp_err(r, "the host lacks build dependencies of %s (see %s); "
					 "build in a root instead of on the host",
				      dir, b->log)
			     : 0;
	}
	r = refresh_lists(b);
	if (r < 0)
		return r;
	progress("installing the build dependencies in the build root ...");
	/* ccache lets each build reuse the objects an earlier one compiled
	 * from the same sources with the same flags (section 14, item 3);
	 * a root without it only builds slower. */
	snprintf(script, sizeof(script),
		 "apt-get -q -y --no-install-recommends build-dep%s%s '%s' && "
		 "{ [ -x /usr/bin/ccache ] || apt-get -q -y --no-install-recommends install "
		 "ccache || echo 'hotpatch: no ccache: every build compiles everything'; }",
		 b->profiles ? " -P " : "", b->profiles ? b->profiles : "", where);
	r = run(b, script, NULL);
	return r < 0 ? hp_err(r, "apt-get build-dep in %s failed; see %s", b->root, b->log) : 0;
}

/* A C or C++ compiler's name: cc, gcc-12, x86_64-linux-gnu-g++ ... */
static bool is_compiler(const char *name)
{
	static const char *const bases[] = {"cc", "gcc", "c++", "g++"};
	size_t n;

	if (strncmp(name, "x86_64-linux-gnu-", 17) == 0)
		name += 17;
	for (size_t i = 0; i < ARRAY_SIZE(bases); i++) {
		n = strlen(bases[i]);
		if (strncmp(name, bases[i], n) == 0 &&
		    (!name[n] || (name[n] == '-' && name[n + 1] &&
				  strspn(name + n + 1, "0123456789") == strlen(name + n + 1))))
			return true;
	}
	return false;
}

/* The root's ccache, when it has one. */
static bool has_ccache(const struct buildroot *b)
{
	char path[PATH_MAX + 32];

	snprintf(path, sizeof(path), "%s/usr/bin/ccache", b->host ? "" : b->root);
	return access(path, X_OK) == 0;
}

/*
 * Wrappers, first in PATH, for every compiler in the root's /usr/bin: each
 * appends $HOTPATCH_CC_EXTRA, last, so the flags hold even for a package
 * that sets its own and ignores dpkg-buildflags (glibc), and goes through
 * ccache when @ccache. Returns the directory as the build sees it in @ret.
 */
static int write_wrappers(const struct buildroot *b, bool ccache, char *ret, size_t len)
{
	char bin[PATH_MAX + 16], dir[PATH_MAX + 16], path[PATH_MAX * 2], text[PATH_MAX];
	struct dirent *e;
	DIR *d;
	int r;

	snprintf(bin, sizeof(bin), "%s/usr/bin", b->host ? "" : b->root);
	snprintf(dir, sizeof(dir), "%s/.hotpatch-cc", b->base);
	snprintf(ret, len, "%s/.hotpatch-cc", b->inroot);
	r = mkdir_p(dir, 0755);
	if (r < 0)
		return hp_err(r, "cannot create %s", dir);
	d = opendir(bin);
	if (!d)
		return hp_err(-errno, "cannot list %s: %m", bin);
	while (r == 0 && (e = readdir(d))) {
		if (!is_compiler(e->d_name))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		snprintf(text, sizeof(text),
			 "#!/bin/sh\n# hotpatch build: compiler wrapper\n"
			 "exec %s/usr/bin/%s \"$@\" $HOTPATCH_CC_EXTRA\n",
			 ccache ? "/usr/bin/ccache " : "", e->d_name);
		r = file_write_atomic(path, text, strlen(text), 0755);
	}
	closedir(d);
	return r;
}

/*
 * How many of a build's compilations ccache answered from earlier builds:
 * its counters, zeroed by the build's script and printed after it into
 * @stats (host path). Returns the text for the build's progress line, ""
 * when there are none.
 */
static void ccache_reused(const char *stats, char *ret, size_t len)
{
	_cleanup_free_ uint8_t *text = NULL;
	long hit = 0, miss = 0, v;
	char key[64], *line, *save = NULL;
	size_t tlen;

	ret[0] = 0;
	if (file_read_all(stats, 1 << 20, &text, &tlen) < 0)
		return;
	for (line = strtok_r((char *)text, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		if (sscanf(line, "%63s %ld", key, &v) != 2)
			continue;
		if (!strcmp(key, "direct_cache_hit") || !strcmp(key, "preprocessed_cache_hit"))
			hit += v;
		else if (!strcmp(key, "cache_miss"))
			miss += v;
	}
	if (hit + miss)
		snprintf(ret, len, " (ccache: %ld of %ld compilations reused)", hit, hit + miss);
}

int buildroot_build(const struct buildroot *b, const char *dir, const char *cflags,
		    bool partial, const char *label)
{
	char where[PATH_MAX], script[PATH_MAX * 3], jobs[64], cf[512], cxf[512], extra[512];
	char wrap[PATH_MAX + 16], path[PATH_MAX * 2], prof[256], ccdir[PATH_MAX + 32];
	char stats[PATH_MAX + 32], reused[96];
	const char *env[12] = {jobs};
	size_t n = 1;
	int64_t t0 = now_ns();
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	bool ccache = has_ccache(b);
	int r;

	in_root(b, dir, where, sizeof(where));
	/* nocheck: a package's test suite does not change what it ships. */
	snprintf(jobs, sizeof(jobs), "DEB_BUILD_OPTIONS=nocheck parallel=%ld", cpus > 0 ? cpus : 1);
	if (b->profiles) {
		snprintf(prof, sizeof(prof), "DEB_BUILD_PROFILES=%s", b->profiles);
		env[n++] = prof;
	}
	if (cflags || ccache) {
		r = write_wrappers(b, ccache, wrap, sizeof(wrap));
		if (r < 0)
			return r;
		snprintf(path, sizeof(path), "PATH=%s:/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin",
			 wrap);
		env[n++] = path;
	}
	if (cflags) {
		snprintf(extra, sizeof(extra), "HOTPATCH_CC_EXTRA=%s", cflags);
		/* and through dpkg-buildflags too, for builds that call the
		 * compiler by its full path */
		snprintf(cf, sizeof(cf), "DEB_CFLAGS_APPEND=%s", cflags);
		snprintf(cxf, sizeof(cxf), "DEB_CXXFLAGS_APPEND=%s", cflags);
		env[n++] = extra;
		env[n++] = cf;
		env[n++] = cxf;
	}
	/* The cache lives beside the builds (same path in every build, so
	 * debug info and __FILE__ hash alike) and is kept with them. */
	snprintf(ccdir, sizeof(ccdir), "CCACHE_DIR=%s/.ccache", b->inroot);
	snprintf(stats, sizeof(stats), "%s/.ccache-stats", b->base);
	unlink(stats);
	if (ccache) {
		env[n++] = ccdir;
		env[n++] = "CCACHE_MAXSIZE=20G";
	}
	/* dpkg-gensymbols only writes the package's metadata, never the binaries */
	if (partial)
		env[n++] = "DPKG_GENSYMBOLS_CHECK_LEVEL=0";
	snprintf(script, sizeof(script),
		 ccache ? "ccache -z >/dev/null && cd '%s' && dpkg-buildpackage -B -uc -us && "
			  "ccache --print-stats > '%s/.ccache-stats'"
			: "cd '%s' && dpkg-buildpackage -B -uc -us",
		 where, b->inroot);
	progress("%s ...", label);
	r = run(b, script, env);
	if (r < 0)
		return hp_err(r, "%s failed; see %s", label, b->log);
	ccache_reused(stats, reused, sizeof(reused));
	progress("%s: done in %.1f s%s", label, (double)(now_ns() - t0) / NSEC_PER_SEC, reused);
	return 0;
}

int buildroot_fetch_binary(const struct buildroot *b, const char *package, const char *version,
			   const char *dir)
{
	char where[PATH_MAX], script[PATH_MAX * 2];
	int r = mkdir_p(dir, 0755);

	if (r < 0)
		return hp_err(r, "cannot create %s", dir);
	in_root(b, dir, where, sizeof(where));
	/* The root's apt lists are the archive of the target's release; the
	 * host's own configuration is only read, never changed. */
	if (!b->host) {
		r = refresh_lists(b);
		if (r < 0)
			return r;
	}
	snprintf(script, sizeof(script), "cd '%s' && apt-get -q download '%s=%s'", where, package,
		 version);
	r = run(b, script, NULL);
	return r < 0 ? hp_err(r, "the archive has no binary package %s %s to check the newer "
				 "build against (apt-get download failed; see %s)",
			      package, version, b->log)
		     : 0;
}
