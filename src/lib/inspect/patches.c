/* SPDX-License-Identifier: MIT */
#include "patches.h"

#include <elf.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "arch.h"
#include "elffile.h"
#include "error.h"
#include "macro.h"
#include "procfs.h"

bool patches_is_object_path(const char *path, char ret_id[BUNDLE_ID_LEN + 1])
{
	const char *base = path ? strrchr(path, '/') : NULL;

	if (!base)
		return false;
	base++;
	if (strlen(base) != BUNDLE_ID_LEN + 4 || strcmp(base + BUNDLE_ID_LEN, ".hpo") != 0)
		return false;
	for (int i = 0; i < BUNDLE_ID_LEN; i++)
		if (!strchr("0123456789abcdef", base[i]))
			return false;
	memcpy(ret_id, base, BUNDLE_ID_LEN);
	ret_id[BUNDLE_ID_LEN] = '\0';
	return true;
}

void patches_free(struct loaded_patch *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].path);
		free(v[i].active);
		free(v[i].stacked);
		record_free(&v[i].rec);
	}
	free(v);
}

struct record_sym {
	uint64_t value, size;
	bool found;
};

static int record_sym_cb(const struct elf_sym *s, void *arg)
{
	struct record_sym *rs = arg;

	if (strcmp(s->name, "__hotpatch_record") != 0 || s->shndx == SHN_UNDEF)
		return 0;
	*rs = (struct record_sym){.value = s->value, .size = s->size, .found = true};
	return 1;
}

/* Object layout from its file: span, code range, where the record is. */
static int read_object(pid_t pid, const struct map_entry *e, struct loaded_patch *p,
		       struct record_sym *rs)
{
	char path[128];
	struct elf_file *ef;
	GElf_Phdr *loads;
	uint64_t lo, hi;
	size_t n;
	int fd, r;

	proc_map_files_path(pid, e, path, sizeof(path));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	r = elf_file_open_fd(fd, e->path, &ef);
	if (r < 0)
		return r;
	r = elf_file_load_span(ef, &lo, &hi);
	if (r == 0)
		r = elf_file_segments(ef, &loads, &n);
	p->size = hi - lo;
	p->text_lo = UINT64_MAX;
	for (size_t i = 0; r == 0 && i < n; i++)
		if (loads[i].p_flags & PF_X) {
			p->text_lo = MIN(p->text_lo, p->base + loads[i].p_vaddr);
			p->text_hi = MAX(p->text_hi, p->base + loads[i].p_vaddr + loads[i].p_memsz);
		}
	if (r == 0 && elf_file_foreach_symbol(ef, true, record_sym_cb, rs) != 1)
		r = -ENOENT;
	elf_file_close(ef);
	return r;
}

static void read_state(int memfd, struct loaded_patch *p, const struct record_sym *rs)
{
	uint8_t buf[65536];

	if (rs->size > sizeof(buf) || proc_mem_read(memfd, p->base + rs->value, buf, rs->size) < 0 ||
	    record_decode(buf, rs->size, &p->rec) < 0 || p->rec.load_base != p->base) {
		hp_err_clear();
		record_free(&p->rec);
		return;
	}
	p->rec_valid = true;
	p->active = calloc(p->rec.n ? p->rec.n : 1, sizeof(bool));
	if (!p->active)
		return;
	for (size_t i = 0; i < p->rec.n; i++) {
		const struct record_entry *e = &p->rec.e[i];
		uint8_t cur[RECORD_MAX_BYTES], jmp[JUMP_SIZE];

		if (e->len != JUMP_SIZE || arch_jump_encode(e->addr, e->new_addr, jmp) < 0 ||
		    proc_mem_read(memfd, e->addr, cur, JUMP_SIZE) < 0)
			continue;
		p->active[i] = memcmp(cur, jmp, JUMP_SIZE) == 0;
		p->nactive += p->active[i];
	}
	hp_err_clear();
}

static int add_patch(pid_t pid, int memfd, const struct map_entry *e, const char *id,
		     struct loaded_patch **v, size_t *n)
{
	struct loaded_patch *nv, *p;
	struct record_sym rs = {0};

	nv = realloc(*v, (*n + 1) * sizeof(*nv));
	if (!nv)
		return hp_err(-ENOMEM, "out of memory");
	*v = nv;
	p = &nv[*n];
	*p = (struct loaded_patch){.base = e->start};
	memcpy(p->id, id, sizeof(p->id));
	p->path = strdup(e->path);
	if (!p->path)
		return hp_err(-ENOMEM, "out of memory");
	(*n)++;
	if (read_object(pid, e, p, &rs) == 0)
		read_state(memfd, p, &rs);
	hp_err_clear();
	return 0;
}

bool patches_applied(const struct loaded_patch *p)
{
	return p->rec_valid && p->rec.n && p->nactive + p->nstacked == p->rec.n;
}

/* The entry of a patch other than @not at @addr whose jump is @bytes. */
static const struct record_entry *entry_with_jump(const struct loaded_patch *v, size_t n,
						  const struct loaded_patch *not, uint64_t addr,
						  const uint8_t bytes[JUMP_SIZE])
{
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; &v[i] != not && v[i].rec_valid && j < v[i].rec.n; j++) {
			const struct record_entry *e = &v[i].rec.e[j];
			uint8_t jmp[JUMP_SIZE];

			if (e->addr == addr && arch_jump_encode(e->addr, e->new_addr, jmp) == 0 &&
			    memcmp(jmp, bytes, JUMP_SIZE) == 0)
				return e;
		}
	return NULL;
}

/* Is @p's entry @j's jump somewhere below the active jump at its site? The
 * chain is followed through each patch's previous bytes, as apply does. */
static bool is_stacked(struct loaded_patch *v, size_t n, struct loaded_patch *p, size_t j,
		       char top[BUNDLE_ID_LEN + 1])
{
	const struct record_entry *e = &p->rec.e[j], *at;
	struct loaded_patch *owner;
	uint8_t mine[JUMP_SIZE];
	size_t k;

	if (arch_jump_encode(e->addr, e->new_addr, mine) < 0)
		return false;
	owner = patches_owner(v, n, e->addr, &k);
	if (!owner || owner == p)
		return false;
	at = &owner->rec.e[k];
	for (size_t depth = 0; at && depth < n; depth++) {
		if (memcmp(at->prev, mine, JUMP_SIZE) == 0) {
			memcpy(top, owner->id, BUNDLE_ID_LEN + 1);
			return true;
		}
		at = entry_with_jump(v, n, p, e->addr, at->prev);
	}
	return false;
}

static void mark_stacked(struct loaded_patch *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct loaded_patch *p = &v[i];

		if (!p->rec_valid || !p->active || p->nactive == p->rec.n)
			continue;
		p->stacked = calloc(p->rec.n, sizeof(bool));
		for (size_t j = 0; p->stacked && j < p->rec.n; j++) {
			p->stacked[j] = !p->active[j] && is_stacked(v, n, p, j, p->under);
			p->nstacked += p->stacked[j];
		}
	}
}

int patches_scan(pid_t pid, int memfd, const struct proc_maps *maps, struct loaded_patch **ret,
		 size_t *ret_n)
{
	struct loaded_patch *v = NULL;
	size_t n = 0;

	for (size_t i = 0; i < maps->n; i++) {
		const struct map_entry *e = &maps->v[i];
		char id[BUNDLE_ID_LEN + 1];
		int r;

		/* The mapping at offset 0 is the object's base. */
		if (e->offset != 0 || !patches_is_object_path(e->path, id))
			continue;
		r = add_patch(pid, memfd, e, id, &v, &n);
		if (r < 0) {
			patches_free(v, n);
			return r;
		}
	}
	mark_stacked(v, n);
	*ret = v;
	*ret_n = n;
	return 0;
}

struct loaded_patch *patches_find(struct loaded_patch *v, size_t n, const char *id)
{
	for (size_t i = 0; i < n; i++)
		if (strncmp(v[i].id, id, strlen(id)) == 0 && strlen(id) >= 4)
			return &v[i];
	return NULL;
}

struct loaded_patch *patches_owner(struct loaded_patch *v, size_t n, uint64_t addr, size_t *ret_i)
{
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; v[i].rec_valid && j < v[i].rec.n; j++)
			if (v[i].active[j] && v[i].rec.e[j].addr == addr) {
				if (ret_i)
					*ret_i = j;
				return &v[i];
			}
	return NULL;
}
