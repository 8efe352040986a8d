/* SPDX-License-Identifier: MIT */
#include "commitstate.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "error.h"
#include "fileio.h"
#include "macro.h"
#include "paths.h"
#include "store.h"

#define RECORD_MAX 8192

static const char *const names[] = {
	[CS_NONE] = "installed",
	[CS_STAGED] = "staged",
	[CS_COMMITTED] = "committed",
	[CS_SUPERSEDED] = "superseded",
	[CS_ROLLED_BACK] = "rolled-back",
};

const char *commitstate_name(enum commit_state s)
{
	return (size_t)s < ARRAY_SIZE(names) ? names[s] : "unknown";
}

static void record_dir(char *ret, size_t len)
{
	snprintf(ret, len, "%s/commit", paths()->state);
}

static void record_path(const char *id, char *ret, size_t len)
{
	snprintf(ret, len, "%s/commit/%s", paths()->state, id);
}

void commitstate_backup_path(const char *id, char *ret, size_t len)
{
	snprintf(ret, len, "%s/%s", paths()->backups, id);
}

static void fsync_dir(const char *path)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
}

int commitstate_ensure_dirs(void)
{
	char dir[PATH_MAX];
	int r = store_ensure_dirs();

	record_dir(dir, sizeof(dir));
	if (r == 0 && access(dir, F_OK) < 0) {
		r = mkdir_p(dir, 0755);
		/* The records and backups written next are fsynced with their
		 * directory; the directories' own entries must be durable too. */
		fsync_dir(paths()->state);
		fsync_dir(paths()->store);
	}
	if (r < 0)
		return r;
	/* Backups are copies of system files, some of them not world-readable:
	 * only root may look. */
	if (chmod(paths()->backups, 0700) < 0)
		return hp_err(-errno, "cannot make %s root-only: %m", paths()->backups);
	return 0;
}

static bool parse_state(const char *s, enum commit_state *ret)
{
	for (size_t i = CS_STAGED; i < ARRAY_SIZE(names); i++)
		if (strcmp(s, names[i]) == 0) {
			*ret = (enum commit_state)i;
			return true;
		}
	return false;
}

/* "key=value" lines; unknown keys are ignored so newer versions can add. */
static int parse_record(char *text, struct commit_record *rec)
{
	bool have_state = false;

	for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
		char *eq = strchr(line, '=');

		if (!eq)
			continue;
		*eq++ = '\0';
		if (strcmp(line, "state") == 0)
			have_state = parse_state(eq, &rec->state);
		else if (strcmp(line, "time") == 0)
			rec->when = strtoll(eq, NULL, 10);
		else if (strcmp(line, "target") == 0)
			snprintf(rec->target, sizeof(rec->target), "%s", eq);
		else if (strcmp(line, "dpkg") == 0)
			snprintf(rec->dpkg, sizeof(rec->dpkg), "%s", eq);
	}
	return have_state ? 0 : -EBADMSG;
}

int commitstate_get(const char *id, struct commit_record *ret)
{
	_cleanup_free_ uint8_t *text = NULL;
	struct commit_record rec = {0};
	char path[PATH_MAX];
	size_t len;
	int r;

	record_path(id, path, sizeof(path));
	if (access(path, F_OK) < 0 && errno == ENOENT) {
		*ret = rec;
		return 0;
	}
	r = file_read_all(path, RECORD_MAX, &text, &len);
	if (r < 0)
		return r;
	if (parse_record((char *)text, &rec) < 0)
		return hp_err(-EBADMSG, "the commit record %s is malformed; remove it and run "
					"`hotpatch commit %s` again",
			      path, id);
	*ret = rec;
	return 0;
}

int commitstate_set(const char *id, enum commit_state state, const char *target)
{
	return commitstate_set_note(id, state, target, NULL);
}

int commitstate_set_note(const char *id, enum commit_state state, const char *target,
			 const char *dpkg)
{
	char path[PATH_MAX], text[RECORD_MAX];
	struct commit_record old = {0};
	int r = commitstate_ensure_dirs(), n;

	if (r < 0)
		return r;
	record_path(id, path, sizeof(path));
	if (state == CS_NONE) {
		if (unlink(path) < 0 && errno != ENOENT)
			return hp_err(-errno, "cannot remove %s: %m", path);
		return 0;
	}
	/* A commit found already done keeps what the commit that did it knew. */
	if (!dpkg && state == CS_COMMITTED && commitstate_get(id, &old) == 0 &&
	    old.state == CS_COMMITTED)
		dpkg = old.dpkg;
	n = snprintf(text, sizeof(text), "state=%s\ntime=%" PRId64 "\ntarget=%s\ndpkg=%s\n",
		     commitstate_name(state), (int64_t)time(NULL), target ? target : "",
		     dpkg ? dpkg : "");
	if (n < 0 || (size_t)n >= sizeof(text))
		return hp_err(-ENAMETOOLONG, "the target path is too long");
	return file_write_atomic(path, text, (size_t)n, 0644);
}

int commitstate_forget(const char *id, bool *ret_had_backup)
{
	char path[PATH_MAX];

	commitstate_backup_path(id, path, sizeof(path));
	*ret_had_backup = access(path, F_OK) == 0;
	if (unlink(path) < 0 && errno != ENOENT)
		return hp_err(-errno, "cannot remove %s: %m", path);
	return commitstate_set(id, CS_NONE, NULL);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool is_id(const char *s)
{
	return strlen(s) == BUNDLE_ID_LEN && strspn(s, "0123456789abcdef") == BUNDLE_ID_LEN;
}

static void free_strv(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

int commitstate_list(char ***ret, size_t *ret_n)
{
	char dir[PATH_MAX], **v = NULL;
	struct dirent *de;
	size_t n = 0;
	DIR *d;

	record_dir(dir, sizeof(dir));
	d = opendir(dir);
	while (d && (de = readdir(d))) {
		char **nv;

		if (!is_id(de->d_name))
			continue;
		nv = realloc(v, (n + 1) * sizeof(*nv));
		if (nv)
			v = nv;
		if (!nv || !(v[n] = strdup(de->d_name))) {
			free_strv(v, n);
			closedir(d);
			return hp_err(-ENOMEM, "out of memory");
		}
		n++;
	}
	if (d)
		closedir(d);
	if (n)
		qsort(v, n, sizeof(*v), cmp_str);
	*ret = v;
	*ret_n = n;
	return 0;
}
