/* SPDX-License-Identifier: MIT */
#include "module.h"

#include <elf.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "elffile.h"
#include "error.h"
#include "macro.h"

struct cache_entry {
	unsigned dev_major, dev_minor;
	uint64_t inode;
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

static bool same_file(const struct cache_entry *c, const struct map_entry *e)
{
	return c->inode == e->inode && c->dev_major == e->dev_major && c->dev_minor == e->dev_minor;
}

static bool cache_get(const struct map_entry *e, struct cache_entry *ret)
{
	bool found = false;

	pthread_mutex_lock(&cache_lock);
	for (size_t i = 0; i < cache_n && !found; i++)
		if (same_file(&cache[i], e)) {
			*ret = cache[i];
			found = true;
		}
	pthread_mutex_unlock(&cache_lock);
	return found;
}

static void cache_put(const struct cache_entry *c)
{
	pthread_mutex_lock(&cache_lock);
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

static void identify(pid_t pid, const struct map_entry *e, struct cache_entry *c)
{
	char path[128];
	struct elf_file *ef;
	int fd;

	*c = (struct cache_entry){.dev_major = e->dev_major, .dev_minor = e->dev_minor,
				  .inode = e->inode};
	proc_map_files_path(pid, e, path, sizeof(path));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return; /* not cached: the process may just have exited */
	if (elf_file_open_fd(fd, e->path, &ef) == 0) {
		if (elf_file_build_id(ef, c->id, &c->idlen) < 0 ||
		    first_load_vaddr(ef, &c->first_vaddr) < 0)
			c->idlen = 0;
		elf_file_close(ef);
	}
	hp_err_clear();
	cache_put(c);
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
	for (size_t i = 0; i < maps->n; i++) {
		const struct map_entry *e = &maps->v[i];
		struct cache_entry c;

		/* A module's first mapping covers its ELF header. */
		if (!e->path || e->path[0] != '/' || e->offset != 0 || !e->inode)
			continue;
		if (!cache_get(e, &c))
			identify(pid, e, &c);
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
	if (fd < 0)
		return hp_err(-errno, "cannot open %s of process %d: %m", m->path, pid);
	return fd;
}
