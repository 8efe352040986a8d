/* SPDX-License-Identifier: MIT */
#include "dpkg.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "debref.h"
#include "error.h"
#include "macro.h"
#include "paths.h"

#define APT_ARCHIVES "/var/cache/apt/archives"
#define OUTPUT_MAX 8192
/* Denies service actions to maintainer scripts run by hotpatch's dpkg, and
 * allows them to everyone else, so that a copy left behind by a crash
 * changes nothing. */
#define POLICY_RC_D "/usr/sbin/policy-rc.d"
#define POLICY_MARK "# hotpatch: deny service actions during its own dpkg runs only"

static void child(char *const argv[], int out)
{
	dup2(out, STDOUT_FILENO);
	dup2(out, STDERR_FILENO);
	if (!getenv("PATH"))
		setenv("PATH", "/usr/sbin:/usr/bin:/sbin:/bin", 1);
	setenv("DEBIAN_FRONTEND", "noninteractive", 1);
	setenv("HOTPATCH_DPKG", "1", 1);
	execvp(argv[0], argv);
	_exit(127);
}

/* Runs @argv with its output (both streams) in @out, at most OUTPUT_MAX
 * bytes kept. Returns its exit status, or a negative errno. */
static int run(char *const argv[], char *out, size_t outlen)
{
	int p[2], status;
	size_t got = 0;
	pid_t pid;
	ssize_t n;

	if (pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	pid = fork();
	if (pid < 0) {
		close(p[0]);
		close(p[1]);
		return -errno;
	}
	if (pid == 0)
		child(argv, p[1]);
	close(p[1]);
	while ((n = read(p[0], out + got, outlen - 1 - got)) > 0 || (n < 0 && errno == EINTR))
		got += n > 0 ? (size_t)n : 0;
	out[got] = '\0';
	close(p[0]);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -errno;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

/* The last non-empty line of @text, for a one-line message. */
static const char *last_line(char *text)
{
	size_t n = strlen(text);
	char *nl;

	while (n && (text[n - 1] == '\n' || text[n - 1] == ' '))
		text[--n] = '\0';
	nl = strrchr(text, '\n');
	return nl ? nl + 1 : text;
}

static int matches(const char *path, const struct debref *d)
{
	crypto_hash_sha256_state st;
	uint8_t chunk[65536], sha[32];
	struct stat sb;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

	if (fd < 0)
		return 0;
	if (fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode) || (uint64_t)sb.st_size != d->size) {
		close(fd);
		return 0;
	}
	crypto_hash_sha256_init(&st);
	while ((n = read(fd, chunk, sizeof(chunk))) > 0)
		crypto_hash_sha256_update(&st, chunk, (size_t)n);
	close(fd);
	crypto_hash_sha256_final(&st, sha);
	return n == 0 && sodium_memcmp(sha, d->sha256, 32) == 0;
}

int dpkg_find_deb(const struct debref *d, char *ret, size_t len)
{
	char name[512], dir[PATH_MAX];
	const char *dirs[2] = {dir, APT_ARCHIVES};

	snprintf(dir, sizeof(dir), "%s/debs", paths()->store);
	debref_apt_filename(d, name, sizeof(name));
	for (size_t i = 0; i < ARRAY_SIZE(dirs); i++) {
		snprintf(ret, len, "%s/%s", dirs[i], name);
		if (matches(ret, d))
			return 0;
	}
	return hp_err(-ENOENT, "no %s with the bundle's checksum in %s or %s", name, dir,
		      APT_ARCHIVES);
}

int dpkg_installed_version(const char *package, const char *arch, char *ret, size_t len)
{
	char out[OUTPUT_MAX], spec[256];
	const char *line;

	snprintf(spec, sizeof(spec), "%s:%s", package, arch);
	if (run((char *[]){"dpkg-query", "-W", "-f", "${db:Status-Abbrev}${Version}", spec, NULL},
		out, sizeof(out)) != 0)
		return -ENOENT;
	line = last_line(out);
	if (strncmp(line, "ii ", 3) != 0)
		return -ENOENT;
	snprintf(ret, len, "%s", line + 3);
	return 0;
}

/* hotpatch's policy-rc.d, put in place when there is none; returns whether
 * it was (and is to be removed after). */
static bool policy_install(void)
{
	static const char text[] = "#!/bin/sh\n" POLICY_MARK "\n"
				   "[ \"$HOTPATCH_DPKG\" = 1 ] && exit 101\nexit 0\n";
	int fd = open(POLICY_RC_D, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0755);
	bool ok;

	if (fd < 0)
		return false;
	ok = write(fd, text, sizeof(text) - 1) == (ssize_t)(sizeof(text) - 1);
	close(fd);
	if (!ok)
		unlink(POLICY_RC_D);
	return ok;
}

int dpkg_install(const char *deb)
{
	char out[OUTPUT_MAX];
	bool policy = policy_install();
	int r = run((char *[]){"dpkg", "--force-confdef", "--force-confold", "-i", (char *)deb,
			       NULL},
		    out, sizeof(out));

	if (policy)
		unlink(POLICY_RC_D);
	if (r < 0)
		return hp_err(r, "cannot run dpkg: %s", strerror(-r));
	if (r != 0)
		return hp_err(-EIO, "dpkg -i %s failed (exit %d): %s; see `dpkg --audit`", deb, r,
			      last_line(out));
	return 0;
}

int dpkg_owner(const char *path, char *ret, size_t len)
{
	char out[OUTPUT_MAX], *colon;
	const char *line;

	if (run((char *[]){"dpkg-query", "-S", (char *)path, NULL}, out, sizeof(out)) != 0)
		return -ENOENT;
	line = last_line(out);
	colon = strstr(line, ": ");
	if (!colon || strncmp(line, "diversion by", 12) == 0)
		return -ENOENT;
	snprintf(ret, len, "%.*s", (int)(colon - line), line);
	return 0;
}
