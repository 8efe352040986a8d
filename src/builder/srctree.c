/* SPDX-License-Identifier: MIT */
#include "srctree.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "error.h"
#include "fileio.h"
#include "macro.h"
#include "runcmd.h"
#include "progress.h"
#include "strv.h"

/* Compiler names a build may call, and the real compiler each one is. */
static const char *const wrapped[][2] = {
	{"cc", "cc"},           {"gcc", "gcc"},       {"c++", "c++"},
	{"g++", "g++"},         {"gcc-12", "gcc-12"}, {"g++-12", "g++-12"},
	{"x86_64-linux-gnu-gcc", "x86_64-linux-gnu-gcc"},
	{"x86_64-linux-gnu-gcc-12", "x86_64-linux-gnu-gcc-12"},
	{"x86_64-linux-gnu-g++", "x86_64-linux-gnu-g++"},
	{"x86_64-linux-gnu-g++-12", "x86_64-linux-gnu-g++-12"},
};

static int find_in_path(const char *name, char *ret, size_t len)
{
	const char *path = getenv("PATH");
	_cleanup_free_ char *copy = strdup(path ? path : "/usr/bin:/bin");
	char *save = NULL;

	if (!copy)
		return -ENOMEM;
	for (char *d = strtok_r(copy, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
		snprintf(ret, len, "%s/%s", d, name);
		if (access(ret, X_OK) == 0)
			return 0;
	}
	return -ENOENT;
}

/* Each wrapper appends our flags (last, so they win) and logs the call. The
 * real compiler's path is baked in, so the wrapper never finds itself. */
static int write_wrapper(const struct srctree *t, const char *name, const char *real)
{
	char path[PATH_MAX], text[PATH_MAX * 2];
	int n;

	snprintf(path, sizeof(path), "%s/%s", t->wrapdir, name);
	n = snprintf(text, sizeof(text),
		     "#!/bin/sh\n"
		     "# hotpatch build: compiler wrapper\n"
		     "printf '%%s\\t%%s\\n' \"$PWD\" \"$*\" >> '%s'\n"
		     "exec '%s' \"$@\" $HOTPATCH_CC_EXTRA\n",
		     t->cclog, real);
	return file_write_atomic(path, text, (size_t)n, 0755);
}

int srctree_init(struct srctree *t, const char *work)
{
	int r;

	snprintf(t->work, sizeof(t->work), "%s", work);
	snprintf(t->wrapdir, sizeof(t->wrapdir), "%s/bin", work);
	snprintf(t->log, sizeof(t->log), "%s/build.log", work);
	snprintf(t->cclog, sizeof(t->cclog), "%s/cc.log", work);
	r = mkdir_p(t->wrapdir, 0755);
	for (size_t i = 0; r == 0 && i < ARRAY_SIZE(wrapped); i++) {
		char real[PATH_MAX];

		if (find_in_path(wrapped[i][1], real, sizeof(real)) == 0)
			r = write_wrapper(t, wrapped[i][0], real);
	}
	return r;
}

int srctree_copy(const char *src, const char *dst)
{
	char from[PATH_MAX + 4];
	char *const mk[] = {"mkdir", "-p", (char *)dst, NULL};
	char *const cp[] = {"cp", "-a", from, (char *)dst, NULL};
	char *const clean[] = {"find", (char *)dst, "-type", "f", "(", "-name", "*.o", "-o",
			       "-name", "*.a", "-o", "-name", "*.lo", "-o", "-name", "*.so",
			       "-o", "-name", "*.so.*", ")", "-delete", NULL};
	int r;

	snprintf(from, sizeof(from), "%s/.", src);
	r = runcmd(mk, NULL);
	if (r == 0)
		r = runcmd(cp, NULL);
	if (r == 0)
		r = runcmd(clean, NULL);
	return r < 0 ? hp_err_prefix(r, "copying %s: ", src) : 0;
}

int srctree_apply(const char *dir, const char *diff)
{
	_cleanup_free_ char *abs = realpath(diff, NULL);
	char *p1[] = {"patch", "-p1", "--batch", "--forward", "--silent", "-d", (char *)dir, "-i",
		      abs, "--dry-run", NULL};
	char *p0[] = {"patch", "-p0", "--batch", "--forward", "--silent", "-d", (char *)dir, "-i",
		      abs, "--dry-run", NULL};
	char **use = p1;
	struct runcmd_opts quiet = {.quiet = true};

	if (!abs)
		return hp_err(-errno, "cannot read %s: %m", diff);
	if (runcmd(p1, &quiet) < 0) {
		use = p0;
		if (runcmd(p0, &quiet) < 0)
			return hp_err(-EINVAL, "%s does not apply cleanly to the source tree "
					       "(tried -p1 and -p0); is it the tree the target was "
					       "built from?",
				      diff);
	}
	use[9] = NULL; /* the real run */
	hp_err_clear();
	return runcmd(use, &quiet);
}

static bool has(const char *dir, const char *name)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return access(path, F_OK) == 0;
}

const char *srctree_guess_build(const char *dir)
{
	if (has(dir, "meson.build"))
		return "meson setup _hotpatch_build >/dev/null && ninja -C _hotpatch_build";
	if (has(dir, "CMakeLists.txt"))
		return "cmake -S . -B _hotpatch_build >/dev/null && cmake --build _hotpatch_build";
	if (has(dir, "Makefile") || has(dir, "makefile") || has(dir, "GNUmakefile"))
		return "make";
	if (has(dir, "configure"))
		return "./configure && make";
	return NULL;
}

int srctree_build(const struct srctree *t, const char *dir, const char *cmd, bool diffable,
		  const char *label)
{
	char path[PATH_MAX * 2], jobs[32], *const argv[] = {"sh", "-c", (char *)cmd, NULL};
	char *envp[512];
	size_t n = 0;
	int64_t t0 = now_ns();
	int r;
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	extern char **environ;

	snprintf(path, sizeof(path), "PATH=%s:%s", t->wrapdir, getenv("PATH") ? getenv("PATH")
									   : "/usr/bin:/bin");
	snprintf(jobs, sizeof(jobs), "MAKEFLAGS=-j%ld", cpus > 0 ? cpus : 1);
	for (char **e = environ; *e && n < ARRAY_SIZE(envp) - 8; e++)
		if (strncmp(*e, "PATH=", 5) && strncmp(*e, "MAKEFLAGS=", 10) &&
		    strncmp(*e, "CC=", 3) && strncmp(*e, "CXX=", 4) &&
		    strncmp(*e, "HOTPATCH_CC_EXTRA=", 18))
			envp[n++] = *e;
	envp[n++] = path;
	envp[n++] = jobs;
	envp[n++] = "CC=cc";
	envp[n++] = "CXX=c++";
	envp[n++] = diffable ? "HOTPATCH_CC_EXTRA=-ffunction-sections -fdata-sections -g"
			     : "HOTPATCH_CC_EXTRA=";
	envp[n] = NULL;
	progress("%s ...", label);
	r = runcmd(argv, &(struct runcmd_opts){.cwd = dir, .envp = envp, .log = t->log});
	if (r < 0)
		return hp_err(r, "%s failed; see %s", label, t->log);
	progress("%s: done in %.1f s", label,
		(double)(now_ns() - t0) / NSEC_PER_SEC);
	return 0;
}

static char **found;
static size_t nfound, capfound, prefix_len;
static int found_err;

static bool is_elf(const char *path)
{
	char magic[4];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	bool ok = fd >= 0 && read(fd, magic, 4) == 4 && memcmp(magic, "\177ELF", 4) == 0;

	if (fd >= 0)
		close(fd);
	return ok;
}

static int collect_o(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	size_t len = strlen(path);

	(void)ftw;
	/* .os: glibc's name for the PIC objects its shared libraries are made of */
	if (flag != FTW_F || !S_ISREG(st->st_mode) || len < 4 ||
	    (strcmp(path + len - 2, ".o") && strcmp(path + len - 3, ".os")))
		return 0;
	/* glibc's stamp.o files are text */
	if (!is_elf(path))
		return 0;
	if (nfound == capfound) {
		char **nv = realloc(found, (capfound = capfound ? capfound * 2 : 64) * sizeof(*nv));

		if (!nv) {
			found_err = -ENOMEM;
			return 1;
		}
		found = nv;
	}
	found[nfound] = strdup(path + prefix_len);
	if (!found[nfound]) {
		found_err = -ENOMEM;
		return 1;
	}
	nfound++;
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int srctree_objects(const char *dir, char ***ret, size_t *ret_n)
{
	found = NULL;
	nfound = capfound = 0;
	found_err = 0;
	prefix_len = strlen(dir) + 1;
	if (nftw(dir, collect_o, 32, FTW_PHYS) < 0 || found_err) {
		strv_free_n(found, nfound);
		return hp_err(found_err ? found_err : -errno, "cannot list the objects in %s", dir);
	}
	qsort(found, nfound, sizeof(*found), cmp_str);
	*ret = found;
	*ret_n = nfound;
	return 0;
}

static const char *want_name;
static char best[PATH_MAX];

static int find_cb(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)ftw;
	if (flag == FTW_F && S_ISREG(st->st_mode) && strcmp(path + ftw->base, want_name) == 0 &&
	    !best[0])
		snprintf(best, sizeof(best), "%s", path);
	return 0;
}

int srctree_find_output(const char *dir, const char *target, const char *rel, char *ret,
			size_t len)
{
	_cleanup_free_ char *real = realpath(target, NULL);
	_cleanup_free_ char *copy = strdup(target);

	if (rel) {
		snprintf(ret, len, "%s/%s", dir, rel);
		return access(ret, R_OK) == 0 ? 0
					       : hp_err(-ENOENT, "the build made no %s", ret);
	}
	if (!copy)
		return -ENOMEM;
	/* By the real file's name first (libfoo.so.1.2.3), then the given one. */
	for (int i = 0; i < 2; i++) {
		want_name = i == 0 && real ? strrchr(real, '/') + 1 : basename(copy);
		best[0] = '\0';
		nftw(dir, find_cb, 32, FTW_PHYS);
		if (best[0]) {
			snprintf(ret, len, "%s", best);
			return 0;
		}
	}
	return hp_err(-ENOENT, "the build of the source tree made no file named like %s; say "
			       "which one it is with --built-file",
		      target);
}
