/* SPDX-License-Identifier: MIT */
#include "audit.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "error.h"
#include "fileio.h"
#include "hex.h"
#include "json.h"
#include "macro.h"
#include "manifest.h"
#include "paths.h"

#define HASH_HEX 64
#define LINE_MAX_LEN 65536
#define PREV_KEY ",\"prev\":\""
/* What audit_reserve() sets aside per line it is asked for, and at most. */
#define RESERVE_LINE 2048
#define RESERVE_MAX (4u << 20)

/* Set once this process appended a line: audit_sync() has work to do. */
static bool written;
/* The first append that failed, for the program to report (library code
 * never prints). */
static char trouble[HP_ERR_MAX];

struct head {
	size_t lines;
	char hash[HASH_HEX + 1];
};

static void hash_line(const char *line, size_t len, char out[HASH_HEX + 1])
{
	uint8_t h[32];

	crypto_hash_sha256(h, (const uint8_t *)line, len);
	hex_encode(h, sizeof(h), out);
}

static void zero_hash(char out[HASH_HEX + 1])
{
	memset(out, '0', HASH_HEX);
	out[HASH_HEX] = '\0';
}

static void head_path(char *buf, size_t len)
{
	snprintf(buf, len, "%s/audit.head", paths()->state);
}

static int head_read(struct head *h)
{
	char path[4096], text[128];
	unsigned long long n;
	FILE *f;

	head_path(path, sizeof(path));
	f = fopen(path, "re");
	if (!f)
		return -errno;
	if (!fgets(text, sizeof(text), f) || sscanf(text, "%llu %64s", &n, h->hash) != 2 ||
	    strlen(h->hash) != HASH_HEX) {
		fclose(f);
		return -EBADMSG;
	}
	fclose(f);
	h->lines = (size_t)n;
	return 0;
}

/* Fixed-width text, rewritten in place under the log's lock: cheap enough
 * for a line per process of an --all run. audit_sync() makes it durable. */
static int head_write(const struct head *h)
{
	char path[4096], text[128];
	int fd, n, r = 0;

	head_path(path, sizeof(path));
	n = snprintf(text, sizeof(text), "%020zu %s\n", h->lines, h->hash);
	fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return hp_err(-errno, "cannot write %s: %m", path);
	if (pwrite(fd, text, (size_t)n, 0) != n)
		r = hp_err(-EIO, "cannot write %s", path);
	close(fd);
	return r;
}

int audit_sync(void)
{
	char path[4096];
	int r = 0;

	head_path(path, sizeof(path));
	for (int i = 0; i < 2; i++) {
		int fd = open(i ? path : paths()->audit_log, O_RDONLY | O_CLOEXEC);

		if (fd < 0)
			continue;
		if (fdatasync(fd) < 0)
			r = -errno;
		close(fd);
	}
	if (r == 0)
		written = false;
	return r;
}

static void format_time(char *buf, size_t len)
{
	struct timespec ts;
	struct tm tm;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000);
}

/* Everything but the "prev" field, which is added under the lock. */
static void format_event(const struct audit_event *ev, struct json *j)
{
	char when[64], bid[2 * 64 + 1];
	const struct manifest *m = ev->manifest;

	format_time(when, sizeof(when));
	json_obj_begin(j);
	json_kv_str(j, "time", when);
	json_kv_int(j, "uid", (int64_t)getuid());
	json_kv_str(j, "op", ev->op);
	json_kv_str(j, "result", ev->result);
	if (ev->patch_id)
		json_kv_str(j, "patch", ev->patch_id);
	if (m) {
		json_key(j, "cves");
		json_arr_begin(j);
		for (size_t i = 0; i < m->ncves; i++)
			json_str(j, m->cves[i]);
		json_arr_end(j);
		hex_encode(m->build_id, m->build_id_len, bid);
		json_kv_str(j, "module", m->target_path);
		json_kv_str(j, "build_id", bid);
	}
	if (ev->pid)
		json_kv_int(j, "pid", ev->pid);
	if (ev->reason && *ev->reason)
		json_kv_str(j, "reason", ev->reason);
	if (ev->pause_us >= 0)
		json_kv_int(j, "pause_us", ev->pause_us);
}

/* The head of a log with no head file yet (a first run, or an old log):
 * recount it. */
static int head_from_log(int fd, struct head *h)
{
	FILE *f = fdopen(dup(fd), "re");
	_cleanup_free_ char *line = NULL;
	size_t cap = 0;
	ssize_t n;

	if (!f)
		return -errno;
	h->lines = 0;
	zero_hash(h->hash);
	rewind(f);
	while ((n = getline(&line, &cap, f)) > 0) {
		if (line[n - 1] == '\n')
			n--;
		hash_line(line, (size_t)n, h->hash);
		h->lines++;
	}
	fclose(f);
	return 0;
}

/* The head as it stands, recounted from the log when there is none yet (a
 * first run, or an old log). */
static int head_get(int fd, struct head *h)
{
	return head_read(h) < 0 ? head_from_log(fd, h) : 0;
}

/* A whole line or nothing: the line is written with one write(2) to the
 * O_APPEND descriptor, and a short or failed write (a full disk) is cut
 * back to the length the log had, as is a line whose head could not be
 * written. The chain therefore never holds half a line, and `audit verify`
 * stays valid after any failure. Called under the log's lock. */
static int append_locked(int fd, struct json *j)
{
	_cleanup_free_ char *line = NULL;
	const char *text;
	struct head h;
	struct stat st;
	ssize_t n;
	int len, r;

	r = head_get(fd, &h);
	if (r < 0)
		return r;
	if (fstat(fd, &st) < 0)
		return -errno;
	json_key(j, "prev");
	json_str(j, h.hash);
	json_obj_end(j);
	text = json_text(j);
	len = asprintf(&line, "%s\n", text);
	if (len < 0)
		return -ENOMEM;
	hash_line(text, (size_t)len - 1, h.hash);
	h.lines++;
	n = write(fd, line, (size_t)len);
	r = n == len ? head_write(&h) : n < 0 ? -errno : -ENOSPC;
	if (r < 0 && n > 0 && ftruncate(fd, st.st_size) < 0)
		return hp_err(-errno, "a failed audit append left part of a line in %s that cannot "
				      "be cut back (%m); remove the text after the last newline",
			      paths()->audit_log);
	written = written || r == 0;
	return r;
}

static void to_syslog(const struct audit_event *ev)
{
	openlog("hotpatch", LOG_PID, LOG_AUTHPRIV);
	syslog(LOG_NOTICE, "%s %s patch=%s pid=%d%s%s", ev->op, ev->result,
	       ev->patch_id ? ev->patch_id : "-", (int)ev->pid, ev->reason ? ": " : "",
	       ev->reason ? ev->reason : "");
	closelog();
}

/* The log open for appending, under its lock (its directories created). */
static int open_locked(int *ret_fd)
{
	_cleanup_free_ char *dir = strdup(paths()->audit_log);
	int fd, r;

	if (sodium_init() < 0 || !dir)
		return -ENOMEM;
	r = mkdir_p(dirname(dir), 0750);
	if (r == 0)
		r = mkdir_p(paths()->state, 0755);
	if (r < 0)
		return r;
	fd = open(paths()->audit_log, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
	if (fd < 0)
		return hp_err(-errno, "cannot open the audit log %s: %m", paths()->audit_log);
	if (flock(fd, LOCK_EX) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	*ret_fd = fd;
	return 0;
}

/* Unlocked explicitly: a child forked meanwhile shares this open file, and
 * close() alone would leave the lock held for as long as it lives. */
static void close_locked(int fd)
{
	flock(fd, LOCK_UN);
	close(fd);
}

int audit_log(const struct audit_event *ev)
{
	struct json j = {0};
	int fd, r;

	to_syslog(ev);
	r = open_locked(&fd);
	if (r == 0) {
		format_event(ev, &j);
		r = append_locked(fd, &j);
		close_locked(fd);
		json_free(&j);
	}
	if (r < 0 && !trouble[0])
		snprintf(trouble, sizeof(trouble), "%s", hp_err_msg(r));
	return r;
}

/* Blocks for @bytes past the end of the log, and a head file: the appends
 * that follow need no new space. Where the file system cannot preallocate,
 * its free space is checked instead. */
static int reserve_locked(int fd, size_t bytes)
{
	struct statvfs vs;
	struct head h;
	struct stat st;
	int r;

	r = head_get(fd, &h);
	if (r == 0)
		r = head_write(&h);
	if (r < 0)
		return r;
	if (fstat(fd, &st) < 0)
		r = -errno;
	else if (fallocate(fd, FALLOC_FL_KEEP_SIZE, st.st_size, (off_t)bytes) < 0)
		r = -errno;
	if (r == -EOPNOTSUPP)
		r = fstatvfs(fd, &vs) < 0 ? -errno
		    : (uint64_t)vs.f_bavail * vs.f_frsize >= bytes ? 0 : -ENOSPC;
	if (r < 0)
		return hp_err(r, "the audit log %s cannot take new records: %s", paths()->audit_log,
			      strerror(-r));
	return 0;
}

int audit_reserve(size_t lines)
{
	size_t bytes = MIN(MAX(lines, (size_t)1) * RESERVE_LINE, (size_t)RESERVE_MAX);
	int fd, r;

	r = open_locked(&fd);
	if (r < 0)
		return r;
	r = reserve_locked(fd, bytes);
	close_locked(fd);
	return r;
}

const char *audit_trouble(void)
{
	return trouble[0] ? trouble : NULL;
}

bool audit_written(void)
{
	return written;
}

static int check_line(char *line, size_t n, size_t lineno, const char *expect)
{
	const char *p;

	if (n < 2 || line[0] != '{' || line[n - 1] != '}')
		return hp_err(-EBADMSG, "audit log line %zu is not a JSON object (edited?)", lineno);
	p = strstr(line, PREV_KEY);
	if (!p || (size_t)(line + n - p) != strlen(PREV_KEY) + HASH_HEX + 2)
		return hp_err(-EBADMSG, "audit log line %zu has no chain link (edited?)", lineno);
	if (strncmp(p + strlen(PREV_KEY), expect, HASH_HEX) != 0)
		return hp_err(-EBADMSG, "audit log line %zu does not follow line %zu: a line was "
					"edited, removed or inserted there",
			      lineno, lineno - 1);
	return 0;
}

int audit_verify(size_t *ret_lines)
{
	_cleanup_free_ char *line = NULL;
	char hash[HASH_HEX + 1];
	struct head h;
	size_t cap = 0, lines = 0;
	ssize_t n;
	FILE *f;
	int r = 0;

	if (sodium_init() < 0)
		return -ENOMEM;
	f = fopen(paths()->audit_log, "re");
	if (!f && errno == ENOENT && head_read(&h) == -ENOENT) {
		*ret_lines = 0; /* nothing was ever recorded */
		return 0;
	}
	if (!f)
		return hp_err(-errno, "cannot open the audit log %s: %m (deleted?)",
			      paths()->audit_log);
	zero_hash(hash);
	while (r == 0 && (n = getline(&line, &cap, f)) > 0) {
		if (line[n - 1] == '\n')
			line[--n] = '\0';
		lines++;
		if ((size_t)n > LINE_MAX_LEN)
			r = hp_err(-EBADMSG, "audit log line %zu is too long", lines);
		else
			r = check_line(line, (size_t)n, lines, hash);
		hash_line(line, (size_t)n, hash);
	}
	fclose(f);
	if (r < 0)
		return r;
	if (head_read(&h) < 0)
		return hp_err(-EBADMSG, "the audit log's head record is missing or corrupt");
	if (h.lines != lines || strcmp(h.hash, hash) != 0)
		return hp_err(-EBADMSG, "the audit log ends at line %zu but %zu lines were written: "
					"it was truncated or its last line was edited",
			      lines, h.lines);
	*ret_lines = lines;
	return 0;
}
