/* SPDX-License-Identifier: MIT */
#include "linkmap.h"

#include <dlfcn.h>
#include <elf.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <string.h>
#include <unistd.h>

#include "elffile.h"
#include "error.h"
#include "macro.h"
#include "module.h"
#include "procfs.h"

#define LINKMAP_MAX 4096
#define DYN_MAX 1024
#define AUXV_MAX 128 /* entries; Linux has about 30 */

struct lm_module {
	uint64_t bias;
	const struct map_entry *map; /* a mapping of the module's file */
	struct elf_file *ef;         /* opened on first use */
	bool failed;
};

struct linkmap {
	pid_t pid;
	int memfd;
	const struct proc_maps *maps;
	struct lm_module *v;
	size_t n;
};

static int lm_add(struct linkmap *lm, uint64_t bias, const struct map_entry *map)
{
	struct lm_module *nv = realloc(lm->v, (lm->n + 1) * sizeof(*nv));

	if (!nv)
		return hp_err(-ENOMEM, "out of memory");
	lm->v = nv;
	nv[lm->n++] = (struct lm_module){.bias = bias, .map = map};
	return 0;
}

/* One read of the whole vector (a few hundred bytes): reading it an entry at
 * a time cost 23 system calls per process. */
static int read_auxv(pid_t pid, uint64_t *ret_phdr, uint64_t *ret_phnum)
{
	uint64_t aux[2 * AUXV_MAX];
	char path[64];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/auxv", proc_live_tid(pid));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, aux, sizeof(aux));
	close(fd);
	*ret_phdr = *ret_phnum = 0;
	for (ssize_t i = 0; i + 1 < n / (ssize_t)sizeof(aux[0]) && aux[i] != AT_NULL; i += 2) {
		if (aux[i] == AT_PHDR)
			*ret_phdr = aux[i + 1];
		else if (aux[i] == AT_PHNUM)
			*ret_phnum = aux[i + 1];
	}
	return *ret_phdr && *ret_phnum && *ret_phnum < 256 ? 0 : -ENOENT;
}

/* DT_DEBUG's value in the dynamic section at @dyn, @size bytes (from its
 * program header), read at once; 0 if none. */
static uint64_t dt_debug(struct linkmap *lm, uint64_t dyn, uint64_t size)
{
	Elf64_Dyn d[DYN_MAX];
	size_t n = MIN(size / sizeof(d[0]), (uint64_t)DYN_MAX);

	if (proc_mem_read(lm->memfd, dyn, d, n * sizeof(d[0])) < 0)
		return 0;
	for (size_t i = 0; i < n && d[i].d_tag != DT_NULL; i++)
		if (d[i].d_tag == DT_DEBUG)
			return d[i].d_un.d_ptr;
	return 0;
}

/* The address of the main program's r_debug, from DT_DEBUG; 0 if none. */
static uint64_t find_r_debug(struct linkmap *lm)
{
	uint64_t phdr_addr = 0, phnum = 0, bias = 0, r_debug = 0;
	Elf64_Phdr ph[256];

	if (read_auxv(lm->pid, &phdr_addr, &phnum) < 0 ||
	    proc_mem_read(lm->memfd, phdr_addr, ph, phnum * sizeof(ph[0])) < 0)
		return 0;
	for (uint64_t i = 0; i < phnum; i++)
		if (ph[i].p_type == PT_PHDR)
			bias = phdr_addr - ph[i].p_vaddr;
	for (uint64_t i = 0; i < phnum && !r_debug; i++)
		if (ph[i].p_type == PT_DYNAMIC)
			r_debug = dt_debug(lm, bias + ph[i].p_vaddr, ph[i].p_memsz);
	hp_err_clear();
	return r_debug;
}

static int walk_link_map(struct linkmap *lm, uint64_t r_debug)
{
	uint64_t node = 0;

	if (proc_mem_read(lm->memfd, r_debug + 8, &node, sizeof(node)) < 0)
		return -EIO;
	for (int i = 0; node && i < LINKMAP_MAX; i++) {
		uint64_t l[5]; /* l_addr, l_name, l_ld, l_next, l_prev */
		const struct map_entry *e;
		int r;

		if (proc_mem_read(lm->memfd, node, l, sizeof(l)) < 0)
			return -EIO;
		e = proc_maps_find(lm->maps, l[2]);
		if (e && e->path && e->path[0] == '/') {
			r = lm_add(lm, l[0], e);
			if (r < 0)
				return r;
		}
		node = l[3];
	}
	return 0;
}

/* Without a link map (static program, or ld.so not done yet): every mapped
 * file, in address order. */
static int all_mapped_files(struct linkmap *lm)
{
	for (size_t i = 0; i < lm->maps->n; i++) {
		const struct map_entry *e = &lm->maps->v[i];
		int r;

		if (!e->path || e->path[0] != '/' || e->offset != 0)
			continue;
		r = lm_add(lm, UINT64_MAX, e); /* bias computed when opened */
		if (r < 0)
			return r;
	}
	return 0;
}

int linkmap_open(pid_t pid, int memfd, const struct proc_maps *maps, struct linkmap **ret)
{
	struct linkmap *lm = calloc(1, sizeof(*lm));
	uint64_t r_debug;
	int r;

	if (!lm)
		return hp_err(-ENOMEM, "out of memory");
	*lm = (struct linkmap){.pid = pid, .memfd = memfd, .maps = maps};
	r_debug = find_r_debug(lm);
	r = r_debug ? walk_link_map(lm, r_debug) : -ENOENT;
	if (r < 0 || lm->n == 0) {
		lm->n = 0;
		hp_err_clear();
		r = all_mapped_files(lm);
	}
	if (r < 0) {
		linkmap_free(lm);
		return r;
	}
	*ret = lm;
	return 0;
}

struct linkmap *linkmap_free(struct linkmap *lm)
{
	if (!lm)
		return NULL;
	for (size_t i = 0; i < lm->n; i++)
		elf_file_close(lm->v[i].ef);
	free(lm->v);
	free(lm);
	return NULL;
}

static struct elf_file *module_elf(struct linkmap *lm, struct lm_module *m)
{
	char path[128];
	int fd;

	if (m->ef || m->failed)
		return m->ef;
	proc_map_files_path(lm->pid, m->map, path, sizeof(path));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || elf_file_open_fd(fd, m->map->path, &m->ef) < 0) {
		m->failed = true;
		hp_err_clear();
		return NULL;
	}
	if (m->bias == UINT64_MAX) {
		uint64_t lo, hi;

		if (elf_file_load_span(m->ef, &lo, &hi) == 0)
			m->bias = m->map->start - lo;
	}
	return m->ef;
}

struct sym_query {
	const char *name;
	const char *version;
	struct elf_sym found;
	bool hit;
};

static bool symbol_matches(const struct elf_sym *s, const struct sym_query *q)
{
	if (s->shndx == SHN_UNDEF || strcmp(s->name, q->name) != 0)
		return false;
	if (s->bind == STB_LOCAL || s->visibility == STV_HIDDEN || s->visibility == STV_INTERNAL)
		return false;
	if (s->type == STT_TLS || s->type == STT_SECTION || s->type == STT_FILE)
		return false;
	if (q->version[0])
		return s->version && strcmp(s->version, q->version) == 0;
	return !s->version_hidden;
}

static int query_cb(const struct elf_sym *s, void *arg)
{
	struct sym_query *q = arg;

	if (!symbol_matches(s, q))
		return 0;
	q->found = *s;
	q->hit = true;
	return 1;
}

struct got_query {
	struct linkmap *lm;
	struct lm_module *user;
	const char *name;
	struct lm_module *provider;
	uint64_t value;
};

static bool in_module_code(const struct linkmap *lm, const struct lm_module *m, uint64_t addr)
{
	const struct map_entry *e = proc_maps_find(lm->maps, addr);

	return e && (e->prot & PROT_EXEC) && e->inode == m->map->inode &&
	       e->dev_major == m->map->dev_major && e->dev_minor == m->map->dev_minor;
}

static int got_cb(const struct elf_rela *r, void *arg)
{
	struct got_query *q = arg;
	struct elf_sym s;
	uint64_t v;

	if ((r->type != R_X86_64_GLOB_DAT && r->type != R_X86_64_JUMP_SLOT) || !r->sym)
		return 0;
	if (elf_file_dynsym(q->user->ef, r->sym, &s) < 0 || strcmp(s.name, q->name) != 0)
		return 0;
	if (proc_mem_read(q->lm->memfd, q->user->bias + r->offset, &v, sizeof(v)) < 0)
		return 0;
	if (!in_module_code(q->lm, q->provider, v))
		return 0; /* lazy binding not done yet: still points at a PLT */
	q->value = v;
	return 1;
}

/* When this process maps the very same build of the provider (the usual
 * case: the host's libc), let our own dynamic linker run the resolver here,
 * on the same CPU, and translate the address into the target's mapping. */
static int resolve_ifunc_here(struct linkmap *lm, struct lm_module *provider, const char *name,
			      const char *version, uint64_t *ret)
{
	uint8_t id[HP_BUILD_ID_MAX];
	struct proc_maps self = {0};
	struct proc_module mine;
	size_t idlen;
	void *h, *sym;
	int r = -ENOENT;

	if (!module_elf(lm, provider) || elf_file_build_id(provider->ef, id, &idlen) < 0 ||
	    proc_maps_read(getpid(), &self) < 0)
		goto out;
	if (module_find(getpid(), &self, id, idlen, &mine) < 0)
		goto out;
	h = dlopen(mine.path, RTLD_LAZY | RTLD_NOLOAD);
	if (!h)
		goto out;
	sym = version && *version ? dlvsym(h, name, version) : dlsym(h, name);
	if (sym && (uint64_t)sym >= mine.lo && (uint64_t)sym < mine.hi) {
		*ret = provider->bias + ((uint64_t)sym - mine.bias);
		r = 0;
	}
	dlclose(h);
out:
	proc_maps_free(&self);
	hp_err_clear();
	return r;
}

/* The implementation an IFUNC resolved to, as recorded in someone's GOT. */
static int resolve_ifunc(struct linkmap *lm, struct lm_module *provider, const char *name,
			 const char *version, uint64_t *ret)
{
	for (size_t i = 0; i < lm->n; i++) {
		struct got_query q = {.lm = lm, .user = &lm->v[i], .name = name,
				      .provider = provider};

		if (!module_elf(lm, &lm->v[i]))
			continue;
		if (elf_file_foreach_dynrela(lm->v[i].ef, got_cb, &q) == 1) {
			hp_err_clear();
			*ret = q.value;
			return 0;
		}
	}
	hp_err_clear();
	if (resolve_ifunc_here(lm, provider, name, version, ret) == 0)
		return 0;
	return hp_err(-ENOENT, "'%s' is an IFUNC in %s and no module of the process has bound it "
			       "yet; hotpatch will not run its resolver in the target",
		      name, provider->map->path);
}

int linkmap_resolve(struct linkmap *lm, const char *name, const char *version, bool weak,
		    uint64_t *ret)
{
	struct sym_query q = {.name = name, .version = version ? version : ""};

	for (size_t i = 0; i < lm->n; i++) {
		struct lm_module *m = &lm->v[i];

		if (!module_elf(lm, m))
			continue;
		if (elf_file_foreach_symbol(m->ef, true, query_cb, &q) != 1)
			continue;
		if (q.found.type == STT_GNU_IFUNC)
			return resolve_ifunc(lm, m, name, q.version, ret);
		*ret = m->bias + q.found.value;
		return 0;
	}
	hp_err_clear();
	if (weak) {
		*ret = 0;
		return 0;
	}
	return hp_err(-ENOENT, "the patch needs '%s%s%s', which no module of process %d defines",
		      name, q.version[0] ? "@" : "", q.version, lm->pid);
}
