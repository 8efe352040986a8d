/* SPDX-License-Identifier: MIT */
#include "module.h"

#include <elf.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "procfs.h"
#include "elffile.h"
#include "error.h"
#include "macro.h"

/* Device and inode number alone do not name a file for long: a deleted
 * file's inode number is soon given to a new one (a commit or a rollback
 * makes exactly such files at a target's path). The change time and size
 * tell a reused number from the file it named before. */
struct stamp {
	int64_t ctime_ns;
	int64_t size;
};

struct cache_entry {
	unsigned dev_major, dev_minor;
	uint64_t inode;
	struct stamp stamp;
	uint8_t id[HP_BUILD_ID_MAX];
	size_t idlen; /* 0: no build-id or not ELF */
	uint64_t first_vaddr; /* p_vaddr of the PT_LOAD at offset 0 */
};

static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;
static struct cache_entry *cache;
static size_t cache_n, cache_cap;

void module_cache_clear(void)
{
	pthread_mutex_lock(&cache_lock);
	free(cache);
	cache = NULL;
	cache_n = cache_cap = 0;
	pthread_mutex_unlock(&cache_lock);
}

static bool same_inode(const struct cache_entry *c, unsigned major, unsigned minor, uint64_t ino)
{
	return c->inode == ino && c->dev_major == major && c->dev_minor == minor;
}

static struct stamp stamp_of(const struct stat *st)
{
	return (struct stamp){.ctime_ns = st->st_ctim.tv_sec * 1000000000LL + st->st_ctim.tv_nsec,
			      .size = st->st_size};
}

/* The mapped inode's stamp, through map_files (any mount namespace). */
/* @tid: a live thread of the process (proc_live_tid()), for all its
 * mappings: the check read /proc/PID/task/PID/stat again for each module
 * (three system calls and the kernel's formatting of the whole file), per
 * process of an --all. */
static int map_stamp(pid_t tid, const struct map_entry *e, struct stamp *ret)
{
	char path[128];
	struct stat st;

	proc_map_files_path_tid(tid, e, path, sizeof(path));
	if (stat(path, &st) < 0)
		return -errno;
	*ret = stamp_of(&st);
	return 0;
}

static bool cache_find(unsigned major, unsigned minor, uint64_t ino, struct stamp now,
		       struct cache_entry *ret)
{
	bool found = false;

	pthread_mutex_lock(&cache_lock);
	for (size_t i = 0; i < cache_n && !found; i++)
		if (same_inode(&cache[i], major, minor, ino) &&
		    cache[i].stamp.ctime_ns == now.ctime_ns && cache[i].stamp.size == now.size) {
			*ret = cache[i];
			found = true;
		}
	pthread_mutex_unlock(&cache_lock);
	return found;
}

static bool cache_get(pid_t tid, const struct map_entry *e, struct cache_entry *ret)
{
	struct stamp now = {0};

	return map_stamp(tid, e, &now) == 0 &&
	       cache_find(e->dev_major, e->dev_minor, e->inode, now, ret);
}

/* One entry per device and inode number: a newer file with a reused number
 * replaces the old one's entry, so the cache does not grow with them. */
static void cache_put(const struct cache_entry *c)
{
	pthread_mutex_lock(&cache_lock);
	for (size_t i = 0; i < cache_n; i++)
		if (same_inode(&cache[i], c->dev_major, c->dev_minor, c->inode)) {
			cache[i] = *c;
			goto out;
		}
	if (cache_n == cache_cap) {
		size_t cap = cache_cap ? cache_cap * 2 : 64;
		struct cache_entry *nv = realloc(cache, cap * sizeof(*nv));

		if (!nv)
			goto out;
		cache = nv;
		cache_cap = cap;
	}
	cache[cache_n++] = *c;
out:
	pthread_mutex_unlock(&cache_lock);
}

static int first_load_vaddr(struct elf_file *ef, uint64_t *ret)
{
	GElf_Phdr *loads;
	size_t n;

	if (elf_file_segments(ef, &loads, &n) < 0)
		return -ENOEXEC;
	for (size_t i = 0; i < n; i++)
		if (loads[i].p_offset == 0) {
			*ret = loads[i].p_vaddr;
			return 0;
		}
	return -ENOEXEC;
}

/* Read the build-id of the file open at @fd into @c (keyed already), and
 * cache it. @fd is the ELF reader's from then on (closed on failure too). */
static void identify_fd(int fd, const char *name, struct cache_entry *c)
{
	struct elf_file *ef;
	struct stat st;

	if (fstat(fd, &st) < 0) {
		close(fd);
		return;
	}
	c->stamp = stamp_of(&st);
	if (elf_file_open_fd(fd, name, &ef) == 0) {
		if (elf_file_build_id(ef, c->id, &c->idlen) < 0 ||
		    first_load_vaddr(ef, &c->first_vaddr) < 0)
			c->idlen = 0;
		elf_file_close(ef);
	}
	hp_err_clear();
	cache_put(c);
}

static void identify(pid_t tid, const struct map_entry *e, struct cache_entry *c)
{
	char path[128];
	int fd;

	*c = (struct cache_entry){.dev_major = e->dev_major, .dev_minor = e->dev_minor,
				  .inode = e->inode};
	proc_map_files_path_tid(tid, e, path, sizeof(path));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return; /* not cached: the process may just have exited */
	identify_fd(fd, e->path ? e->path : path, c);
}

static void module_span(const struct proc_maps *maps, const struct map_entry *first,
			struct proc_module *m)
{
	m->lo = UINT64_MAX;
	m->hi = 0;
	for (size_t i = 0; i < maps->n; i++) {
		const struct map_entry *e = &maps->v[i];

		if (e->inode != first->inode || e->dev_major != first->dev_major ||
		    e->dev_minor != first->dev_minor)
			continue;
		m->lo = MIN(m->lo, e->start);
		m->hi = MAX(m->hi, e->end);
	}
}

int module_find(pid_t pid, const struct proc_maps *maps, const uint8_t *build_id,
		size_t build_id_len, struct proc_module *ret)
{
	pid_t tid = proc_live_tid(pid);

	for (size_t i = 0; i < maps->n; i++) {
		const struct map_entry *e = &maps->v[i];
		struct cache_entry c;

		/* A module's first mapping covers its ELF header. */
		if (!e->path || e->path[0] != '/' || e->offset != 0 || !e->inode)
			continue;
		if (!cache_get(tid, e, &c))
			identify(tid, e, &c);
		if (c.idlen != build_id_len || memcmp(c.id, build_id, build_id_len) != 0)
			continue;
		*ret = (struct proc_module){
			.path = e->path,
			.bias = e->start - (c.first_vaddr & ~4095ULL),
			.first = e,
		};
		module_span(maps, e, ret);
		return 0;
	}
	return -ENOENT;
}

int module_open(pid_t pid, const struct proc_module *m)
{
	char path[128];
	int fd;

	proc_map_files_path(pid, m->first, path, sizeof(path));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		int e = errno;

		/* The mapping just read has no entry any more: what a process
		 * tearing down its memory in exit looks like. ESRCH makes the
		 * session check whether it exited, and say so (session.c). */
		return hp_err(e == ENOENT ? -ESRCH : -e, "cannot open %s of process %d: %s", m->path,
			      pid, strerror(e));
	}
	return fd;
}

int module_path_build_id(const char *path, uint8_t *ret_id, size_t *ret_len)
{
	struct cache_entry c = {0};
	struct stat st;
	int fd;

	if (stat(path, &st) < 0)
		return -errno;
	if (!cache_find(major(st.st_dev), minor(st.st_dev), st.st_ino, stamp_of(&st), &c)) {
		c = (struct cache_entry){.dev_major = major(st.st_dev),
					 .dev_minor = minor(st.st_dev), .inode = st.st_ino};
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return -errno;
		identify_fd(fd, path, &c);
	}
	memcpy(ret_id, c.id, c.idlen);
	*ret_len = c.idlen;
	return 0;
}

int module_exe_build_id(pid_t pid, uint8_t *ret_id, size_t *ret_len)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/exe", proc_live_tid(pid));
	return module_path_build_id(path, ret_id, ret_len);
}

int module_map_build_id(pid_t pid, const struct map_entry *e, uint8_t *ret_id, size_t *ret_len)
{
	pid_t tid = proc_live_tid(pid);
	struct cache_entry c;

	if (!cache_get(tid, e, &c)) {
		identify(tid, e, &c);
		if (!c.stamp.size && !c.stamp.ctime_ns)
			return -ESRCH; /* not opened: the process is gone */
	}
	memcpy(ret_id, c.id, c.idlen);
	*ret_len = c.idlen;
	return 0;
}
