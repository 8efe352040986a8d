/* SPDX-License-Identifier: MIT */
/*
 * `catch-up = build` (hotpatch.conf): the host builds the live patches it
 * lacks itself, in the apt hook's Pre step, the only moment the builder can
 * work: `build --upgrade-to` rebuilds the installed version's twin and
 * compares it with the installed file, and after dpkg has run both are
 * gone. For each running build the hook recorded, of a package being
 * upgraded, `hotpatch build --upgrade-to NEW` runs (hotpatch-build, the
 * builder's own program), its output in a log; a bundle is signed with the
 * host's own key (etc/hotpatch/host.key, made on first use, its public half
 * put in trusted.d: opting in to this mode is trusting it) and installed
 * into the store, where the Post step's catch-up applies it; "nothing to
 * patch" becomes a no-fix record in the store's no-fix directory.
 *
 * Results are cached per (build-id, new version) in var/cache/hotpatch/
 * catch-up, a failure too (a failed build is not retried on every apt run:
 * delete its .failed file to retry). Nothing here fails the apt run: each
 * build's outcome is one line.
 */
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "catchup.h"
#include "cli.h"
#include "fileio.h"
#include "macro.h"
#include "paths.h"
#include "store.h"

extern char **environ;

struct cu_build {
	const struct hp_config *conf;
	char dir[PATH_MAX];  /* var/cache/hotpatch/catch-up */
	char key[PATH_MAX];  /* etc/hotpatch/host.key */
};

/* hotpatch itself (/proc/self/exe) with @args, under our --root; its
 * output to @log (appended), or to ours when NULL. 0: it exited 0. */
static int self_run(const char *log, const char *const *args, size_t nargs)
{
	const char *argv[24] = {"hotpatch", "--root", paths()->root};
	posix_spawn_file_actions_t fa;
	size_t n = 3;
	pid_t pid;
	int r, st;

	for (size_t i = 0; i < nargs && n < ARRAY_SIZE(argv) - 1; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	if (log) {
		posix_spawn_file_actions_addopen(&fa, 1, log, O_WRONLY | O_CREAT | O_APPEND, 0644);
		posix_spawn_file_actions_adddup2(&fa, 1, 2);
	}
	fflush(NULL);
	r = posix_spawn(&pid, "/proc/self/exe", &fa, NULL, (char *const *)argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (r)
		return hp_err(-r, "cannot run hotpatch %s: %s", args[0], strerror(r));
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return hp_err(-errno, "waiting for hotpatch %s: %m", args[0]);
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -EIO;
}

/* The host's signing key, made on first use and trusted. */
static int host_key(struct cu_build *b)
{
	char pub[PATH_MAX + 8], trusted[PATH_MAX + 16];
	_cleanup_free_ uint8_t *text = NULL;
	size_t len;
	int r;

	snprintf(pub, sizeof(pub), "%s.pub", b->key);
	snprintf(trusted, sizeof(trusted), "%s/host.pub", paths()->trusted);
	if (access(b->key, R_OK) < 0 &&
	    (mkdir_p(paths()->config_dir, 0755) < 0 ||
	     self_run(NULL, (const char *[]){"keygen", "-k", b->key}, 3) < 0))
		return hp_err(-EIO, "cannot make the host key %s for `catch-up = build`", b->key);
	if (access(trusted, R_OK) == 0)
		return 0;
	r = file_read_all(pub, 4096, &text, &len);
	if (r == 0)
		r = mkdir_p(paths()->trusted, 0755);
	if (r == 0)
		r = file_write_atomic(trusted, text, len, 0644);
	return r < 0 ? hp_err_prefix(r, "trusting the host key: ") : 0;
}

/* The cache's files for one build: PREFIX.hpb, .nofix, .failed, .log. */
static void cache_name(const struct cu_build *b, const struct pkgindex_entry *e,
		       const char *ext, char *ret, size_t len)
{
	char ver[128];
	size_t i = 0;

	/* versions may hold ':' and '~': kept readable, never a path */
	for (const char *s = e->new_version; *s && i < sizeof(ver) - 1; s++)
		ver[i++] = (*s == '/') ? '_' : *s;
	ver[i] = '\0';
	snprintf(ret, len, "%s/%s_%s.%s", b->dir, e->build_id, ver, ext);
}

/* The builder, once per (build, new version); 0 with a bundle or a no-fix
 * record in the cache, -EIO when it failed (its log says why). */
static int build_one(const struct cu_build *b, const struct pkgindex_entry *e)
{
	char out[PATH_MAX + 160], nofix[PATH_MAX + 160], log[PATH_MAX + 160];
	const char *args[16] = {"build", "--target", e->path, "--upgrade-to", e->new_version,
				"-o", out, "--no-fix-record", nofix};
	size_t n = 9;

	cache_name(b, e, "hpb", out, sizeof(out));
	cache_name(b, e, "nofix", nofix, sizeof(nofix));
	cache_name(b, e, "log", log, sizeof(log));
	if (access(out, R_OK) == 0 || access(nofix, R_OK) == 0)
		return 0;
	if (b->conf->build_sources) {
		args[n++] = "--sources";
		args[n++] = b->conf->build_sources;
	}
	if (b->conf->build_root) {
		args[n++] = "--build-root";
		args[n++] = b->conf->build_root;
	}
	printf("hotpatch: building a live patch for %s (%s %s -> %s); log: %s\n", e->path,
	       e->package, e->version, e->new_version, log);
	fflush(stdout);
	unlink(log);
	return self_run(log, args, n);
}

/* Signs and installs a built bundle, or puts a no-fix record where
 * catch-up reads the host's own. */
static int take(struct cu_build *b, const struct pkgindex_entry *e)
{
	char out[PATH_MAX + 160], nofix[PATH_MAX + 160], dest[PATH_MAX + 160];
	_cleanup_free_ uint8_t *text = NULL;
	size_t len;
	int r;

	cache_name(b, e, "hpb", out, sizeof(out));
	cache_name(b, e, "nofix", nofix, sizeof(nofix));
	if (access(out, R_OK) == 0) {
		r = host_key(b);
		if (r == 0 && self_run(NULL, (const char *[]){"sign", out, "-k", b->key}, 4) < 0)
			r = hp_err(-EIO, "cannot sign %s with the host key", out);
		if (r == 0 && self_run(NULL, (const char *[]){"install", out}, 2) < 0)
			r = hp_err(-EIO, "cannot install %s", out);
		return r;
	}
	snprintf(dest, sizeof(dest), "%s/%s", paths()->no_fix_local, e->build_id);
	r = file_read_all(nofix, 1u << 20, &text, &len);
	if (r == 0)
		r = mkdir_p(paths()->no_fix_local, 0755);
	if (r == 0)
		r = file_write_atomic(dest, text, len, 0644);
	if (r == 0)
		printf("hotpatch: nothing to patch live in %s (%s %s -> %s)\n", e->path, e->package,
		       e->version, e->new_version);
	return r;
}

static void build_and_take(struct cu_build *b, const struct pkgindex_entry *e)
{
	char failed[PATH_MAX + 160], log[PATH_MAX + 160], id[BUNDLE_ID_LEN + 1];
	int r;

	/* a patch package, or an earlier run, put one in the store */
	if (store_find_build(e->build_id, id) == 0) {
		printf("hotpatch: a live patch for %s (%s %s) is installed already: %s\n", e->path,
		       e->package, e->version, id);
		return;
	}
	cache_name(b, e, "failed", failed, sizeof(failed));
	cache_name(b, e, "log", log, sizeof(log));
	if (access(failed, F_OK) == 0) {
		printf("hotpatch: no live patch for %s (%s %s -> %s): its build failed before "
		       "(%s; remove %s to try again)\n",
		       e->path, e->package, e->version, e->new_version, log, failed);
		return;
	}
	r = build_one(b, e);
	if (r < 0) {
		file_write_atomic(failed, "", 0, 0644);
		printf("hotpatch: no live patch for %s (%s %s -> %s): the build failed; see %s\n",
		       e->path, e->package, e->version, e->new_version, log);
		hp_err_clear();
		return;
	}
	r = take(b, e);
	if (r < 0)
		cli_warn("%s", hp_err_msg(r));
	hp_err_clear();
}

int catchup_build(const struct hp_config *conf, const struct pkgindex_entry *v, size_t n)
{
	struct cu_build b = {.conf = conf};
	int r;

	snprintf(b.dir, sizeof(b.dir), "%s/var/cache/hotpatch/catch-up",
		 strcmp(paths()->root, "/") ? paths()->root : "");
	snprintf(b.key, sizeof(b.key), "%s/host.key", paths()->config_dir);
	r = mkdir_p(b.dir, 0700);
	if (r < 0)
		return r;
	for (size_t i = 0; i < n; i++) {
		bool seen = false;

		/* one build per running build and version, however many paths */
		for (size_t k = 0; k < i && !seen; k++)
			seen = strcmp(v[k].build_id, v[i].build_id) == 0 &&
			       strcmp(v[k].new_version, v[i].new_version) == 0;
		if (!seen)
			build_and_take(&b, &v[i]);
	}
	return 0;
}
