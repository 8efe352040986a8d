/* SPDX-License-Identifier: MIT */
#include "procfs.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "error.h"
#include "macro.h"

/* A process with more mappings than this is not one we can reason about. */
#define MAPS_MAX 1000000

static void map_entry_free(struct map_entry *e)
{
	free(e->path);
}

void proc_maps_free(struct proc_maps *m)
{
	for (size_t i = 0; i < m->n; i++)
		map_entry_free(&m->v[i]);
	free(m->v);
	*m = (struct proc_maps){0};
}

/* A number in @base (16 or 10) at *@p, advancing past it; false if none.
 * By hand, not sscanf(): the maps of a process are read twice per apply,
 * and sscanf's generic machinery was most of that cost. */
static bool take_num(const char **p, unsigned base, uint64_t *ret)
{
	const char *s = *p;
	uint64_t v = 0;

	for (;; s++) {
		unsigned d;

		if (*s >= '0' && *s <= '9')
			d = (unsigned)(*s - '0');
		else if (base == 16 && *s >= 'a' && *s <= 'f')
			d = (unsigned)(*s - 'a' + 10);
		else
			break;
		v = v * base + d;
	}
	if (s == *p)
		return false;
	*ret = v;
	*p = s;
	return true;
}

static bool take_char(const char **p, char c)
{
	if (**p != c)
		return false;
	(*p)++;
	return true;
}

/* "start-end perms offset major:minor inode   path" */
static int parse_maps_fields(const char **p, struct map_entry *e, char perms[5])
{
	uint64_t major, minor;

	if (!take_num(p, 16, &e->start) || !take_char(p, '-') || !take_num(p, 16, &e->end) ||
	    !take_char(p, ' ') || strnlen(*p, 4) < 4)
		return -EBADMSG;
	memcpy(perms, *p, 4);
	*p += 4;
	if (!take_char(p, ' ') || !take_num(p, 16, &e->offset) || !take_char(p, ' ') ||
	    !take_num(p, 16, &major) || !take_char(p, ':') || !take_num(p, 16, &minor) ||
	    !take_char(p, ' ') || !take_num(p, 10, &e->inode))
		return -EBADMSG;
	e->dev_major = (unsigned)major;
	e->dev_minor = (unsigned)minor;
	while (**p == ' ')
		(*p)++;
	return 0;
}

static int parse_maps_line(char *line, struct map_entry *e)
{
	const char *cur = line;
	char perms[5] = {0};
	char *path;
	size_t len;

	*e = (struct map_entry){0};
	if (parse_maps_fields(&cur, e, perms) < 0)
		return -EBADMSG;
	e->prot = (perms[0] == 'r' ? PROT_READ : 0) | (perms[1] == 'w' ? PROT_WRITE : 0) |
		  (perms[2] == 'x' ? PROT_EXEC : 0);
	e->shared = perms[3] == 's';
	path = line + (cur - line);
	len = strlen(path);
	/* A file name may end in spaces: only the newline is not part of it. */
	if (len && path[len - 1] == '\n')
		path[--len] = '\0';
	if (!len)
		return 0;
	if (len > 10 && strcmp(path + len - 10, " (deleted)") == 0) {
		e->deleted = true;
		path[len - 10] = '\0';
	}
	e->path = strdup(path);
	return e->path ? 0 : -ENOMEM;
}

int proc_maps_read(pid_t pid, struct proc_maps *ret)
{
	struct proc_maps m = {0};
	_cleanup_free_ char *line = NULL;
	size_t cap = 0, linecap = 0;
	char path[64];
	FILE *f;
	int r = 0;

	snprintf(path, sizeof(path), "/proc/%d/maps", proc_live_tid(pid));
	f = fopen(path, "re");
	if (!f) {
		if (errno == ENOENT)
			return hp_err(-ESRCH, "process %d does not exist", pid);
		return hp_err(-errno, "cannot read %s: %m", path);
	}
	while (getline(&line, &linecap, f) > 0) {
		if (m.n == cap) {
			struct map_entry *nv;

			if (cap >= MAPS_MAX) {
				r = hp_err(-E2BIG, "process %d has too many mappings", pid);
				break;
			}
			cap = cap ? cap * 2 : 64;
			nv = realloc(m.v, cap * sizeof(*nv));
			if (!nv) {
				r = hp_err(-ENOMEM, "out of memory");
				break;
			}
			m.v = nv;
		}
		r = parse_maps_line(line, &m.v[m.n]);
		if (r < 0) {
			r = hp_err(r, "cannot parse %s", path);
			break;
		}
		m.n++;
	}
	fclose(f);
	if (r == 0 && m.n == 0)
		r = hp_err(-ESRCH, "process %d has no memory (a kernel thread, or it has exited)",
			   pid);
	if (r < 0) {
		proc_maps_free(&m);
		return r;
	}
	*ret = m;
	return 0;
}

const struct map_entry *proc_maps_find(const struct proc_maps *m, uint64_t addr)
{
	size_t lo = 0, hi = m->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (addr < m->v[mid].start)
			hi = mid;
		else if (addr >= m->v[mid].end)
			lo = mid + 1;
		else
			return &m->v[mid];
	}
	return NULL;
}

void proc_map_files_path_tid(pid_t tid, const struct map_entry *e, char *buf, size_t len)
{
	snprintf(buf, len, "/proc/%d/map_files/%" PRIx64 "-%" PRIx64, tid, e->start, e->end);
}

void proc_map_files_path(pid_t pid, const struct map_entry *e, char *buf, size_t len)
{
	proc_map_files_path_tid(proc_live_tid(pid), e, buf, len);
}

static int cmp_pid(const void *a, const void *b)
{
	pid_t x = *(const pid_t *)a, y = *(const pid_t *)b;

	return (x > y) - (x < y);
}

static int list_numeric_dir(const char *path, pid_t skip, pid_t **ret, size_t *ret_n)
{
	size_t n = 0, cap = 0;
	pid_t *v = NULL;
	struct dirent *de;
	DIR *d;

	d = opendir(path);
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		char *end;
		long id;

		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		id = strtol(de->d_name, &end, 10);
		if (*end || id <= 0 || id == skip)
			continue;
		if (n == cap) {
			pid_t *nv;

			cap = cap ? cap * 2 : 64;
			nv = realloc(v, cap * sizeof(*v));
			if (!nv) {
				free(v);
				closedir(d);
				return -ENOMEM;
			}
			v = nv;
		}
		v[n++] = (pid_t)id;
	}
	closedir(d);
	if (n)
		qsort(v, n, sizeof(*v), cmp_pid);
	*ret = v;
	*ret_n = n;
	return 0;
}

int proc_tasks(pid_t pid, pid_t **ret, size_t *ret_n)
{
	char path[64];
	int r;

	snprintf(path, sizeof(path), "/proc/%d/task", pid);
	r = list_numeric_dir(path, 0, ret, ret_n);
	if (r == -ENOENT)
		return hp_err(-ESRCH, "process %d does not exist", pid);
	if (r < 0)
		return hp_err(r, "cannot list threads of process %d: %s", pid, strerror(-r));
	return 0;
}

int proc_list_pids(pid_t **ret, size_t *ret_n)
{
	int r = list_numeric_dir("/proc", getpid(), ret, ret_n);

	return r < 0 ? hp_err(r, "cannot list /proc: %s", strerror(-r)) : 0;
}

static int status_field(pid_t pid, const char *key, char *val, size_t len)
{
	char path[64], line[256];
	size_t klen = strlen(key);
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	f = fopen(path, "re");
	if (!f)
		return errno == ENOENT ? -ESRCH : -errno;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, key, klen) == 0 && line[klen] == ':') {
			char *v = line + klen + 1;

			v += strspn(v, " \t");
			v[strcspn(v, "\n")] = '\0';
			snprintf(val, len, "%s", v);
			fclose(f);
			return 0;
		}
	}
	fclose(f);
	return -ENOENT;
}

int proc_tracer(pid_t pid, pid_t *ret)
{
	char v[32];
	int r = status_field(pid, "TracerPid", v, sizeof(v));

	if (r < 0)
		return hp_err(r, "process %d does not exist", pid);
	*ret = (pid_t)atoi(v);
	return 0;
}

bool proc_shadow_stack(pid_t pid)
{
	char v[256];

	/* Absent on kernels and CPUs without user shadow stacks. */
	return status_field(pid, "x86_Thread_features", v, sizeof(v)) == 0 &&
	       strstr(v, "shstk") != NULL;
}

int proc_uid(pid_t pid, uid_t *ret)
{
	char v[128];
	unsigned real, eff;
	int r = status_field(pid, "Uid", v, sizeof(v));

	if (r < 0)
		return hp_err(r, "process %d does not exist", pid);
	if (sscanf(v, "%u %u", &real, &eff) != 2)
		return hp_err(-EBADMSG, "cannot parse the uid of process %d", pid);
	*ret = eff;
	return 0;
}

uint64_t proc_thread_runtime_ns(pid_t pid, pid_t tid)
{
	char path[96], buf[128];
	unsigned long long ns;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/schedstat", pid, tid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	return sscanf(buf, "%llu", &ns) == 1 ? ns : 0;
}

char proc_thread_state(pid_t pid, pid_t tid)
{
	char path[96], buf[512], *p;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/stat", pid, tid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return '?';
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return '?';
	buf[n] = '\0';
	/* The command name may contain spaces and parentheses: the state
	 * follows the last ')'. */
	p = strrchr(buf, ')');
	return p && p[1] == ' ' ? p[2] : '?';
}

static bool state_dead(char st)
{
	return st == '?' || st == 'Z' || st == 'X';
}

/* The first thread of @pid that has not exited, or 0. */
static pid_t first_live_task(pid_t pid)
{
	pid_t *tids = NULL, live = 0;
	size_t n = 0;

	if (proc_tasks(pid, &tids, &n) < 0)
		return 0;
	for (size_t i = 0; i < n && !live; i++)
		if (!state_dead(proc_thread_state(pid, tids[i])))
			live = tids[i];
	free(tids);
	return live;
}

pid_t proc_live_tid(pid_t pid)
{
	char st = proc_thread_state(pid, pid);
	pid_t live;

	if (st != 'Z' && st != 'X')
		return pid;
	live = first_live_task(pid);
	return live ? live : pid;
}

bool proc_exited(pid_t pid)
{
	char st = proc_thread_state(pid, pid);

	if (st == '?')
		return true;
	/* A zombie main thread with others running is a live process. */
	return state_dead(st) && !first_live_task(pid);
}

int proc_comm(pid_t pid, char *buf, size_t len)
{
	char path[64];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/comm", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(buf, len, "?");
		return -errno;
	}
	n = read(fd, buf, len - 1);
	close(fd);
	if (n <= 0) {
		snprintf(buf, len, "?");
		return -EIO;
	}
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

int proc_mem_open(pid_t pid, bool writable)
{
	char path[64];
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/mem", proc_live_tid(pid));
	fd = open(path, (writable ? O_RDWR : O_RDONLY) | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT || errno == ESRCH)
			return hp_err(-ESRCH, "process %d has exited", pid);
		return hp_err(-errno, "cannot open the memory of process %d: %m", pid);
	}
	return fd;
}

int proc_mem_read(int memfd, uint64_t addr, void *buf, size_t len)
{
	ssize_t n = pread(memfd, buf, len, (off_t)addr);

	if (n == (ssize_t)len)
		return 0;
	return hp_err(n < 0 ? -errno : -EIO, "cannot read %zu bytes at 0x%" PRIx64 " in the target",
		      len, addr);
}

int proc_mem_write(int memfd, uint64_t addr, const void *buf, size_t len)
{
	ssize_t n = pwrite(memfd, buf, len, (off_t)addr);

	if (n == (ssize_t)len)
		return 0;
	return hp_err(n < 0 ? -errno : -EIO,
		      "cannot write %zu bytes at 0x%" PRIx64 " in the target", len, addr);
}
