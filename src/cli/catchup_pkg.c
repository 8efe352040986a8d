/* SPDX-License-Identifier: MIT */
#include "catchup_pkg.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "error.h"
#include "macro.h"

/* A Debian changelog of many years is a few MB uncompressed (glibc's: 2). */
#define CHANGELOG_MAX (32u << 20)

extern char **environ;

static int wait_child(pid_t pid, const char *what)
{
	int status;

	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return hp_err(-errno, "waiting for %s: %m", what);
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		return -EIO;
	return 0;
}

int catchup_capture(char *const argv[], size_t max, bool show_errors, char **ret)
{
	posix_spawn_file_actions_t fa;
	_cleanup_free_ char *out = malloc(max + 1);
	int pipefd[2], r;
	size_t len = 0;
	ssize_t n;
	pid_t pid;

	if (!out)
		return hp_err(-ENOMEM, "out of memory");
	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return hp_err(-errno, "pipe: %m");
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, pipefd[1], STDOUT_FILENO);
	if (!show_errors)
		posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
	r = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(pipefd[1]);
	if (r) {
		close(pipefd[0]);
		return hp_err(-r, "cannot run %s: %s", argv[0], strerror(r));
	}
	/* Read to the end even past @max, so the child never blocks on a full
	 * pipe; what does not fit is dropped. */
	for (char sink[4096]; (n = read(pipefd[0], len < max ? out + len : sink,
					 len < max ? max - len : sizeof(sink))) != 0;) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			break;
		if (len < max)
			len += (size_t)n;
	}
	close(pipefd[0]);
	r = wait_child(pid, argv[0]);
	if (r < 0)
		return r;
	out[len] = '\0';
	*ret = TAKE_PTR(out);
	return 0;
}

/*
 * dpkg-query reads the whole database for each question (40 ms on a small
 * host), and a dozen processes map the same few libraries: the answers
 * are remembered for the command's run, by root (device and inode of the
 * process's root directory: the host's, a container's) and question.
 */
struct answer {
	dev_t dev;
	ino_t ino;
	char kind;          /* 'o': owner of a path, 'v': version of a package */
	char *key;
	char value[128];
	int r;
};

static struct answer *answers;
static size_t nanswers;

static struct answer *recall(const char *root, char kind, const char *key, struct stat *st)
{
	if (stat(root, st) < 0)
		return NULL;
	for (size_t i = 0; i < nanswers; i++)
		if (answers[i].dev == st->st_dev && answers[i].ino == st->st_ino &&
		    answers[i].kind == kind && strcmp(answers[i].key, key) == 0)
			return &answers[i];
	return NULL;
}

static void remember(const struct stat *st, char kind, const char *key, const char *value, int r)
{
	struct answer *nv = realloc(answers, (nanswers + 1) * sizeof(*nv));

	if (!nv)
		return;
	answers = nv;
	nv[nanswers] = (struct answer){.dev = st->st_dev, .ino = st->st_ino, .kind = kind,
				       .key = strdup(key), .r = r};
	if (!nv[nanswers].key)
		return;
	snprintf(nv[nanswers].value, sizeof(nv[nanswers].value), "%s", value);
	nanswers++;
}

/* The remembered answer to (@kind, @key) in @root, or the one @ask gives. */
static int answer(const char *root, char kind, const char *key,
		  int (*ask)(const char *root, const char *key, char *ret, size_t len), char *ret,
		  size_t len)
{
	struct stat st = {0};
	const struct answer *a = recall(root, kind, key, &st);
	int r;

	if (a) {
		snprintf(ret, len, "%s", a->value);
		return a->r;
	}
	r = ask(root, key, ret, len);
	if (st.st_ino)
		remember(&st, kind, key, r == 0 ? ret : "", r);
	return r;
}

void catchup_pkg_forget(void)
{
	for (size_t i = 0; i < nanswers; i++)
		free(answers[i].key);
	free(answers);
	answers = NULL;
	nanswers = 0;
}

static void admindir(const char *root, char *ret, size_t len)
{
	snprintf(ret, len, "--admindir=%s/var/lib/dpkg", strcmp(root, "/") == 0 ? "" : root);
}

/* dpkg-query -S for exactly @path: "pkg[:arch]: /path" lines; the first
 * package of a line whose path is @path. */
static int owner_of(const char *root, const char *path, char *ret, size_t len)
{
	char adm[PATH_MAX + 32];
	_cleanup_free_ char *out = NULL;
	char *argv[] = {"dpkg-query", adm, "-S", (char *)path, NULL};
	char *save = NULL;

	admindir(root, adm, sizeof(adm));
	if (catchup_capture(argv, 1 << 16, false, &out) < 0)
		return -ENOENT;
	for (char *l = strtok_r(out, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		char *sep = strstr(l, ": ");

		if (!sep || strcmp(sep + 2, path) != 0 || strncmp(l, "diversion by", 12) == 0)
			continue;
		*sep = '\0';
		l[strcspn(l, ":,")] = '\0';
		snprintf(ret, len, "%s", l);
		return 0;
	}
	return -ENOENT;
}

static int ask_owner(const char *root, const char *path, char *ret, size_t len)
{
	static const char *const merged[] = {"/usr/lib/", "/usr/lib64/", "/usr/bin/", "/usr/sbin/"};

	hp_err_clear();
	if (owner_of(root, path, ret, len) == 0)
		return 0;
	/* usrmerge: the kernel shows /usr/lib/x.so where dpkg lists /lib/x.so. */
	for (size_t i = 0; i < ARRAY_SIZE(merged); i++)
		if (strncmp(path, merged[i], strlen(merged[i])) == 0 &&
		    owner_of(root, path + 4, ret, len) == 0)
			return 0;
	return -ENOENT;
}

int catchup_pkg_owner(const char *root, const char *path, char *ret, size_t len)
{
	int r = answer(root, 'o', path, ask_owner, ret, len);

	return r < 0 ? hp_err(r, "no installed package owns %s", path) : 0;
}

static int ask_version(const char *root, const char *package, char *ret, size_t len)
{
	char adm[PATH_MAX + 32];
	_cleanup_free_ char *out = NULL;
	char *argv[] = {"dpkg-query", adm, "-W", "-f", "${Version}\\n", (char *)package, NULL};

	admindir(root, adm, sizeof(adm));
	if (catchup_capture(argv, 4096, false, &out) < 0 || !out[0] || out[0] == '\n')
		return -ENOENT;
	out[strcspn(out, "\n")] = '\0';
	snprintf(ret, len, "%s", out);
	return 0;
}

int catchup_pkg_version(const char *root, const char *package, char *ret, size_t len)
{
	int r = answer(root, 'v', package, ask_version, ret, len);

	return r < 0 ? hp_err(r, "%s is not installed", package) : 0;
}

int catchup_pkg_cves(const char *root, const char *package, const char *running,
		     const char *installed, struct changelog_cves *ret)
{
	static const char *const names[] = {"changelog.Debian.gz", "changelog.gz"};
	_cleanup_free_ char *text = NULL;
	char path[PATH_MAX];
	char *argv[] = {"gzip", "-dc", path, NULL};

	for (size_t i = 0; i < ARRAY_SIZE(names) && !text; i++) {
		snprintf(path, sizeof(path), "%s/usr/share/doc/%s/%s",
			 strcmp(root, "/") == 0 ? "" : root, package, names[i]);
		if (access(path, R_OK) == 0 && catchup_capture(argv, CHANGELOG_MAX, false, &text) < 0)
			text = NULL;
	}
	if (!text)
		return hp_err(-ENOENT, "%s has no readable changelog in /usr/share/doc", package);
	return changelog_cves_between(text, strlen(text), running, installed, ret);
}
