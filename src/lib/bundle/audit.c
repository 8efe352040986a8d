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
#include <sys/uio.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "auditfiles.h"
#include "error.h"
#include "fault.h"
#include "fileio.h"
#include "hex.h"
#include "journal.h"
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

struct locked {
	int lock; /* state/audit.lock, flock'ed */
	int log;  /* the log, O_APPEND */
};

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

/* One fdatasync, of the log: the head is a check against truncation, not
 * where the chain comes from. A head that a power cut left behind the log's
 * durable lines is recognised by `audit verify` (the head's line is in the
 * chain, the lines after it are counted) and repaired by the next append,
 * which links to the log's own last line. */
int audit_sync(void)
{
	int fd = open(paths()->audit_log, O_RDONLY | O_CLOEXEC), r = 0;

	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	if (fdatasync(fd) < 0)
		r = -errno;
	close(fd);
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

/* The chain read from the oldest rotation to the log's last line. */
struct walk {
	struct audit_files files;
	bool check;       /* check each link (audit verify), or only hash */
	size_t lines;     /* lines read, in all files */
	size_t last_file; /* the file that holds the last line read */
	bool from_start;  /* the first line read links to nothing: none was rotated away */
	char hash[HASH_HEX + 1]; /* of the last line read */
	const char *find;  /* a line hash to look for (the head's), or NULL */
	size_t found_at;   /* lines read up to and with the last line of that hash */
};

static int walk_file(struct walk *w, size_t i);

static int walk_chain(struct walk *w, bool check, const char *find)
{
	int r;

	*w = (struct walk){.check = check, .find = find};
	zero_hash(w->hash);
	r = audit_files_list(paths()->audit_log, &w->files);
	for (size_t i = 0; r == 0 && i < w->files.n; i++)
		r = walk_file(w, i);
	return r;
}

/* The head of a log with no head file yet (a first run, or an old log):
 * recounted from the lines still there. */
static int head_from_chain(struct head *h)
{
	struct walk w;
	int r = walk_chain(&w, false, NULL);

	if (r == 0) {
		h->lines = w.lines;
		memcpy(h->hash, w.hash, sizeof(h->hash));
	}
	audit_files_free(&w.files);
	return r;
}

/* The head as it stands, recounted from the log when there is none yet (a
 * first run, or an old log). */
static int head_get(struct head *h)
{
	return head_read(h) < 0 ? head_from_chain(h) : 0;
}

/* The hash of the log's last line (the log ends with a newline), read
 * from its end: a window that grows until it holds the whole line. */
static int last_line_hash(int fd, off_t size, char out[HASH_HEX + 1])
{
	for (size_t want = 4096;; want *= 2) {
		size_t len = (size_t)MIN((off_t)want, size);
		_cleanup_free_ char *buf = malloc(len);
		const char *start;

		if (!buf)
			return -ENOMEM;
		if (pread(fd, buf, len, size - (off_t)len) != (ssize_t)len || buf[len - 1] != '\n')
			return -EBADMSG;
		start = memrchr(buf, '\n', len - 1);
		if (start || (off_t)len == size) {
			start = start ? start + 1 : buf;
			hash_line(start, (size_t)(buf + len - 1 - start), out);
			return 0;
		}
		if (len > LINE_MAX_LEN)
			return -EBADMSG;
	}
}

/* The head on disk can be behind the log after a power cut (only the log
 * is synced): then the lines after the head's line are counted in, and the
 * next line links to the log's real last line. */
static int head_catch_up(int fd, const struct stat *st, struct head *h)
{
	char last[HASH_HEX + 1];
	struct walk w;
	int r;

	if (st->st_size == 0 || last_line_hash(fd, st->st_size, last) < 0 ||
	    strcmp(last, h->hash) == 0)
		return 0;
	r = walk_chain(&w, false, h->hash);
	if (r == 0 && w.found_at) {
		h->lines += w.lines - w.found_at;
		memcpy(h->hash, w.hash, sizeof(h->hash));
	} else if (r == 0) {
		r = head_from_chain(h); /* the head names no line of the log */
	}
	audit_files_free(&w.files);
	return r;
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

	r = head_get(&h);
	if (r < 0)
		return r;
	if (fstat(fd, &st) < 0)
		return -errno;
	r = head_catch_up(fd, &st, &h);
	if (r < 0)
		return r;
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

/* MESSAGE_ID= of each kind of audit record (docs/daemon.md lists them). */
static const struct {
	const char *op, *id;
} message_ids[] = {
	{"apply", AUDIT_ID_APPLY},     {"revert", AUDIT_ID_REVERT},
	{"install", AUDIT_ID_INSTALL}, {"remove", AUDIT_ID_REMOVE},
	{"commit", AUDIT_ID_COMMIT},   {"rollback", AUDIT_ID_ROLLBACK},
};

static const char *message_id(const char *op)
{
	for (size_t i = 0; i < ARRAY_SIZE(message_ids); i++)
		if (strcmp(message_ids[i].op, op) == 0)
			return message_ids[i].id;
	return AUDIT_ID_OTHER;
}

/* A refusal is a warning, a failure an error, anything done a notice. */
static int priority(const char *result)
{
	if (strcmp(result, "failed") == 0)
		return LOG_ERR;
	if (strcmp(result, "refused") == 0 || strcmp(result, "superseded") == 0)
		return LOG_WARNING;
	return LOG_NOTICE;
}

static void format_message(const struct audit_event *ev, char *buf, size_t len)
{
	snprintf(buf, len, "%s %s patch=%s pid=%d%s%s", ev->op, ev->result,
		 ev->patch_id ? ev->patch_id : "-", (int)ev->pid, ev->reason ? ": " : "",
		 ev->reason ? ev->reason : "");
}

#define JOURNAL_CVES 16

/* The record as a journal entry of its own, with fields to search by
 * (journalctl HOTPATCH_CVE=...). Fails where no journald listens. */
static int to_journal(const struct audit_event *ev, const char *msg)
{
	const struct manifest *m = ev->manifest;
	char f[8][320], cve[JOURNAL_CVES][80];
	struct iovec iov[8 + JOURNAL_CVES];
	size_t n = 0, k = 0;

	snprintf(f[k++], sizeof(f[0]), "MESSAGE=%s", msg);
	snprintf(f[k++], sizeof(f[0]), "PRIORITY=%d", priority(ev->result));
	snprintf(f[k++], sizeof(f[0]), "SYSLOG_FACILITY=%d", LOG_AUTHPRIV >> 3);
	snprintf(f[k++], sizeof(f[0]), "SYSLOG_IDENTIFIER=hotpatch");
	snprintf(f[k++], sizeof(f[0]), "MESSAGE_ID=%s", message_id(ev->op));
	snprintf(f[k++], sizeof(f[0]), "HOTPATCH_RESULT=%s", ev->result);
	if (ev->patch_id)
		snprintf(f[k++], sizeof(f[0]), "HOTPATCH_PATCH_ID=%s", ev->patch_id);
	if (ev->pid)
		snprintf(f[k++], sizeof(f[0]), "HOTPATCH_PID=%d", (int)ev->pid);
	for (size_t i = 0; i < k; i++)
		iov[n++] = (struct iovec){f[i], strlen(f[i])};
	/* (A field may repeat: one HOTPATCH_CVE= per CVE.) */
	for (size_t c = 0; m && c < MIN(m->ncves, (size_t)JOURNAL_CVES); c++) {
		snprintf(cve[c], sizeof(cve[c]), "HOTPATCH_CVE=%s", m->cves[c]);
		iov[n++] = (struct iovec){cve[c], strlen(cve[c])};
	}
	return journal_send(iov, n);
}

/* The independent copy of the record: the journal natively, else syslog. */
static void to_syslog(const struct audit_event *ev)
{
	char msg[2048];

	format_message(ev, msg, sizeof(msg));
	if (to_journal(ev, msg) >= 0)
		return;
	openlog("hotpatch", LOG_PID, LOG_AUTHPRIV);
	syslog(priority(ev->result), "%s", msg);
	closelog();
}

/* The log's lock is a file of its own beside the head, not the log: the
 * log is renamed away by logrotate, and two writers locking the old and
 * the new file would both extend the chain from the same head. Under this
 * lock, a line written to a file renamed a moment before is still in the
 * chain: the rotation it went to (uncompressed until the next rotation:
 * delaycompress) holds the lines before it, and the next line, in the new
 * file, links to it. */
static int lock_open(void)
{
	char path[4096];
	int fd;

	snprintf(path, sizeof(path), "%s/audit.lock", paths()->state);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return hp_err(-errno, "cannot open %s: %m", path);
	if (flock(fd, LOCK_EX) < 0) {
		int r = -errno;

		close(fd);
		return r;
	}
	return fd;
}

/* The log open for appending, under its lock (its directories created). */
static int open_locked(struct locked *ret)
{
	_cleanup_free_ char *dir = strdup(paths()->audit_log);
	int fd, lock, r;

	if (sodium_init() < 0 || !dir)
		return -ENOMEM;
	r = mkdir_p(dirname(dir), 0750);
	if (r == 0)
		r = mkdir_p(paths()->state, 0755);
	if (r < 0)
		return r;
	lock = lock_open();
	if (lock < 0)
		return lock;
	fd = open(paths()->audit_log, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
	if (fd < 0) {
		r = hp_err(-errno, "cannot open the audit log %s: %m", paths()->audit_log);
		close(lock);
		return r;
	}
	*ret = (struct locked){.lock = lock, .log = fd};
	return 0;
}

/* Unlocked explicitly: a child forked meanwhile shares this open file, and
 * close() alone would leave the lock held for as long as it lives. */
static void close_locked(struct locked *l)
{
	flock(l->lock, LOCK_UN);
	close(l->lock);
	close(l->log);
}

int audit_log(const struct audit_event *ev)
{
	struct json j = {0};
	struct locked l;
	int r;

	to_syslog(ev);
	r = open_locked(&l);
	if (r == 0) {
		fault_point("audit-locked");
		format_event(ev, &j);
		r = append_locked(l.log, &j);
		close_locked(&l);
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

	r = head_get(&h);
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
	struct locked l;
	int r;

	r = open_locked(&l);
	if (r < 0)
		return r;
	r = reserve_locked(l.log, bytes);
	close_locked(&l);
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

static const char *file_name(const struct walk *w, size_t i)
{
	const char *slash = strrchr(w->files.paths[i], '/');

	return slash ? slash + 1 : w->files.paths[i];
}

/* Where @line's link starts, or NULL when it has none. */
static const char *link_of(const char *line, size_t n)
{
	const char *p = strstr(line, PREV_KEY);

	if (!p || (size_t)(line + n - p) != strlen(PREV_KEY) + HASH_HEX + 2)
		return NULL;
	return p + strlen(PREV_KEY);
}

static bool is_zero_hash(const char *hash)
{
	return strspn(hash, "0") >= HASH_HEX;
}

/* The first line read starts the chain when nothing was rotated away, and
 * then links to nothing; in a log with no rotations beside it, it must. */
static int check_first(struct walk *w, size_t i, const char *link)
{
	w->from_start = is_zero_hash(link);
	if (w->from_start || w->files.n > 1)
		return 0;
	return hp_err(-EBADMSG, "%s line 1 does not start the chain, and no rotated file holds "
				"the lines before it: lines were removed from its start",
		      file_name(w, i));
}

/* Line @lineno of file @i links to the line read before it. */
static int check_link(struct walk *w, size_t i, size_t lineno, const char *line, size_t n)
{
	const char *link = link_of(line, n), *name = file_name(w, i);

	if (n < 2 || line[0] != '{' || line[n - 1] != '}')
		return hp_err(-EBADMSG, "%s line %zu is not a JSON object (edited?)", name, lineno);
	if (!link)
		return hp_err(-EBADMSG, "%s line %zu has no chain link (edited?)", name, lineno);
	if (w->lines == 0)
		return check_first(w, i, link);
	if (strncmp(link, w->hash, HASH_HEX) == 0)
		return 0;
	if (lineno > 1)
		return hp_err(-EBADMSG, "%s line %zu does not follow line %zu: a line was edited, "
					"removed or inserted there",
			      name, lineno, lineno - 1);
	return hp_err(-EBADMSG, "%s line 1 does not follow the last line of %s: a line was "
				"edited, removed or inserted at the end of one or the start of the "
				"other, or a rotated file between them is missing",
		      name, file_name(w, w->last_file));
}

static int walk_file(struct walk *w, size_t i)
{
	struct audit_reader *rd = NULL;
	const char *line;
	size_t n, lineno = 0;
	int r = audit_reader_open(w->files.paths[i], &rd);

	while (r >= 0 && (r = audit_reader_next(rd, LINE_MAX_LEN, &line, &n)) > 0) {
		lineno++;
		if (n > LINE_MAX_LEN)
			r = hp_err(-EBADMSG, "%s line %zu is too long", file_name(w, i), lineno);
		else if (w->check)
			r = check_link(w, i, lineno, line, n);
		hash_line(line, n, w->hash);
		w->lines++;
		if (w->find && strcmp(w->hash, w->find) == 0)
			w->found_at = w->lines;
		w->last_file = i;
	}
	audit_reader_close(rd);
	return r;
}

/* The chain read ends where the head says the last line written is, or,
 * after a power cut that took the head's last update but not the log's
 * synced lines, goes on past the head's line. */
static int check_end(const struct walk *w, const struct head *h, struct audit_summary *ret)
{
	bool at_end = strcmp(h->hash, w->hash) == 0 &&
		       (w->from_start ? h->lines == w->lines : h->lines >= w->lines);
	bool behind = !at_end && w->found_at &&
		      (w->from_start ? h->lines == w->found_at : h->lines >= w->found_at);
	size_t upto = at_end ? w->lines : w->found_at;

	if (!at_end && !behind && (w->from_start ? h->lines != w->lines : h->lines < w->lines))
		return hp_err(-EBADMSG, "the audit log ends at line %zu but %zu lines were written: "
					"it was truncated or its last line was edited",
			      w->lines, h->lines);
	if (!at_end && !behind)
		return hp_err(-EBADMSG, "the audit log's last line (in %s) is not the last one "
					"written: it was truncated or its last line was edited",
			      w->files.n ? file_name(w, w->last_file) : "none");
	*ret = (struct audit_summary){.lines = w->lines,
				      .files = w->files.n,
				      .rotated_away = h->lines - upto,
				      .after_head = w->lines - upto};
	return 0;
}

int audit_verify(struct audit_summary *ret)
{
	struct walk w;
	struct head h;
	bool have_head;
	int r, head_r;

	if (sodium_init() < 0)
		return -ENOMEM;
	head_r = head_read(&h);
	have_head = head_r == 0;
	r = walk_chain(&w, true, have_head ? h.hash : NULL);
	if (r == 0 && w.files.n == 0) {
		r = head_r == -ENOENT
			    ? 0 /* nothing was ever recorded */
			    : hp_err(-ENOENT, "cannot open the audit log %s: it is gone (deleted?)",
				     paths()->audit_log);
		*ret = (struct audit_summary){0};
	} else if (r == 0 && !have_head) {
		r = hp_err(-EBADMSG, "the audit log's head record is missing or corrupt");
	} else if (r == 0) {
		r = check_end(&w, &h, ret);
	}
	audit_files_free(&w.files);
	return r;
}
