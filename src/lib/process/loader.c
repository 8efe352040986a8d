/* SPDX-License-Identifier: MIT */
#include "loader.h"

#include <elf.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "bundle.h"
#include "elffile.h"
#include "debug.h"
#include "error.h"
#include "fault.h"
#include "linkmap.h"
#include "macro.h"
#include "module.h"
#include "placement.h"
#include "procfs.h"
#include "remote.h"

#define PAGE 4096ULL
#define MAX_SEGMENTS 16

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif

/* A writable (or RELRO) segment, relocated locally before it is written. */
struct image {
	uint64_t vaddr; /* page-aligned link-time start */
	uint64_t size;  /* page-aligned */
	uint8_t *data;
	uint8_t *orig; /* what the fresh mapping holds before we write */
};

struct load {
	const struct loader_target *t;
	const struct bundle *b;
	struct elf_file *obj;
	GElf_Phdr *loads;
	size_t nloads;
	GElf_Phdr relro;
	bool has_relro;
	uint64_t base, size;
	struct image img[MAX_SEGMENTS];
	size_t nimg;
	uint64_t *symcache; /* resolved value per dynsym index, +1 (0: unresolved) */
	size_t nsymcache;
	bool reserved; /* the address range is ours in the target */
};

static uint64_t page_down(uint64_t v)
{
	return v & ~(PAGE - 1);
}

static uint64_t page_up(uint64_t v)
{
	return (v + PAGE - 1) & ~(PAGE - 1);
}

static int prot_of(const GElf_Phdr *ph)
{
	return (ph->p_flags & PF_R ? PROT_READ : 0) | (ph->p_flags & PF_W ? PROT_WRITE : 0) |
	       (ph->p_flags & PF_X ? PROT_EXEC : 0);
}

int loader_layout(const struct bundle *b, uint64_t *ret_size, uint64_t *ret_text_lo,
		  uint64_t *ret_text_hi)
{
	struct elf_file *obj;
	GElf_Phdr *loads;
	uint64_t lo, hi, tlo = UINT64_MAX, thi = 0;
	size_t n;
	int r;

	r = elf_file_open_mem(b->object, b->object_size, "patch object", &obj);
	if (r < 0)
		return r;
	r = elf_file_load_span(obj, &lo, &hi);
	if (r == 0 && lo != 0)
		r = hp_err(-EINVAL, "the patch object is not position-independent");
	if (r == 0)
		r = elf_file_segments(obj, &loads, &n);
	for (size_t i = 0; r == 0 && i < n; i++)
		if (loads[i].p_flags & PF_X) {
			tlo = MIN(tlo, loads[i].p_vaddr);
			thi = MAX(thi, loads[i].p_vaddr + loads[i].p_memsz);
		}
	if (r == 0 && tlo >= thi)
		r = hp_err(-EINVAL, "the patch object has no code");
	elf_file_close(obj);
	if (r < 0)
		return r;
	*ret_size = hi;
	*ret_text_lo = tlo;
	*ret_text_hi = thi;
	return 0;
}

static bool is_image_segment(const struct load *l, const GElf_Phdr *ph)
{
	if (ph->p_flags & PF_W)
		return true;
	return l->has_relro && ph->p_vaddr < l->relro.p_vaddr + l->relro.p_memsz &&
	       l->relro.p_vaddr < ph->p_vaddr + ph->p_memsz;
}

static int make_images(struct load *l)
{
	size_t objsize = l->b->object_size;

	for (size_t i = 0; i < l->nloads; i++) {
		const GElf_Phdr *ph = &l->loads[i];
		struct image *im;
		uint64_t file_start;

		if (!is_image_segment(l, ph))
			continue;
		if (l->nimg == MAX_SEGMENTS)
			return hp_err(-EINVAL, "the patch object has too many segments");
		im = &l->img[l->nimg++];
		im->vaddr = page_down(ph->p_vaddr);
		im->size = page_up(ph->p_vaddr + ph->p_memsz) - im->vaddr;
		im->data = calloc(1, im->size);
		im->orig = calloc(1, im->size);
		if (!im->data || !im->orig)
			return hp_err(-ENOMEM, "out of memory");
		/* The fresh mapping shows whole file pages... */
		file_start = ph->p_offset - (ph->p_vaddr - im->vaddr);
		if (file_start < objsize)
			memcpy(im->orig, l->b->object + file_start,
			       MIN(page_up(ph->p_vaddr + ph->p_filesz) - im->vaddr,
				   objsize - file_start));
		/* ...but the segment wants zeros after p_filesz. */
		memcpy(im->data, im->orig, ph->p_vaddr - im->vaddr + ph->p_filesz);
	}
	return 0;
}

static struct image *image_at(struct load *l, uint64_t vaddr, size_t len)
{
	for (size_t i = 0; i < l->nimg; i++)
		if (vaddr >= l->img[i].vaddr && vaddr + len <= l->img[i].vaddr + l->img[i].size)
			return &l->img[i];
	return NULL;
}

static const struct manifest_sym *manifest_sym(const struct manifest *m, const char *name)
{
	for (size_t i = 0; i < m->nsyms; i++)
		if (strcmp(m->syms[i].name, name) == 0)
			return &m->syms[i];
	return NULL;
}

static int resolve_undefined(struct load *l, const struct elf_sym *s, uint64_t *ret)
{
	const struct manifest_sym *ms = manifest_sym(&l->b->manifest, s->name);

	if (!ms)
		return hp_err(-EINVAL, "the bundle does not say how to resolve '%s'; rebuild it",
			      s->name);
	if (ms->kind == SYM_TARGET) {
		*ret = l->t->mod->bias + ms->vaddr;
		return 0;
	}
	if (ms->kind == SYM_TARGET_IFUNC) {
		/* what this process's resolver chose, as the target's own
		 * calls use it */
		int r = proc_mem_read(l->t->memfd, l->t->mod->bias + ms->vaddr, ret, sizeof(*ret));

		return r < 0 ? hp_err_prefix(r, "reading the target's choice for IFUNC '%s': ",
					     ms->name)
			     : 0;
	}
	return linkmap_resolve(l->t->lm, ms->name, ms->version, ms->weak, ret);
}

static int symbol_value(struct load *l, uint32_t index, uint64_t *ret)
{
	struct elf_sym s;
	int r;

	if (index < l->nsymcache && l->symcache[index]) {
		*ret = l->symcache[index] - 1;
		return 0;
	}
	r = elf_file_dynsym(l->obj, index, &s);
	if (r < 0)
		return r;
	if (s.shndx != SHN_UNDEF)
		*ret = l->base + s.value;
	else {
		r = resolve_undefined(l, &s, ret);
		if (r < 0)
			return r;
	}
	if (index < l->nsymcache)
		l->symcache[index] = *ret + 1;
	return 0;
}

static int apply_rela(const struct elf_rela *r, void *arg)
{
	struct load *l = arg;
	struct image *im = image_at(l, r->offset, 8);
	uint64_t v = 0, s = 0;
	int ret;

	if (r->type == R_X86_64_NONE)
		return 0;
	if (!im)
		return hp_err(-EINVAL, "the patch object relocates read-only memory at 0x%" PRIx64,
			      r->offset);
	if (r->type != R_X86_64_RELATIVE) {
		ret = symbol_value(l, r->sym, &s);
		if (ret < 0)
			return ret;
	}
	switch (r->type) {
	case R_X86_64_RELATIVE:
		v = l->base + (uint64_t)r->addend;
		break;
	case R_X86_64_64:
		v = s + (uint64_t)r->addend;
		break;
	case R_X86_64_GLOB_DAT:
	case R_X86_64_JUMP_SLOT:
		v = s;
		break;
	default:
		return hp_err(-EINVAL, "relocation type %u is not supported", r->type);
	}
	memcpy(im->data + (r->offset - im->vaddr), &v, 8);
	return 0;
}

static int place_record(struct load *l, struct record *rec)
{
	const struct manifest *m = &l->b->manifest;
	struct image *im = image_at(l, m->record_vaddr, m->record_size);

	if (!im || m->record_size != record_size(rec->n))
		return hp_err(-EINVAL, "the patch object's record is missing or has the wrong size");
	rec->load_base = l->base;
	for (size_t i = 0; i < rec->n; i++)
		rec->e[i].new_addr = l->base + m->funcs[i].new_vaddr;
	record_encode(rec, im->data + (m->record_vaddr - im->vaddr));
	return 0;
}

static bool same_file_system_view(pid_t pid)
{
	struct stat a, b;
	char path[64], root[8];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/ns/mnt", proc_live_tid(pid));
	if (stat(path, &a) < 0 || stat("/proc/self/ns/mnt", &b) < 0 || a.st_ino != b.st_ino ||
	    a.st_dev != b.st_dev)
		return false;
	snprintf(path, sizeof(path), "/proc/%d/root", proc_live_tid(pid));
	n = readlink(path, root, sizeof(root));
	return n == 1 && root[0] == '/';
}

/* Without pidfd_getfd (an old kernel, or valgrind), the target opens the
 * object by path. Only when it sees the same files as we do: inside a
 * container the same path could name a file the container controls. The fd
 * it got is then checked to be our very file. */
static int open_by_path(struct remote *rm, const struct loader_target *t, uint64_t s,
			long *ret_fd)
{
	struct stat ours, theirs;
	char path[64];
	int r;

	if (!same_file_system_view(rm->pid))
		return hp_err(-ENOSYS, "cannot pass the patch object to process %d: pidfd_getfd is "
				       "unavailable and the process lives in another mount namespace",
			      rm->pid);
	if (fstat(t->object_fd, &ours) < 0)
		return hp_err(-errno, "cannot stat the patch object: %m");
	snprintf(path, sizeof(path), "/proc/self/fd/%d", t->object_fd);
	/* The target resolves "/proc/self" as itself: give it our real path. */
	{
		char real[PATH_MAX];
		ssize_t n = readlink(path, real, sizeof(real) - 1);

		if (n <= 0 || n >= 3000)
			return hp_err(-ENAMETOOLONG, "cannot name the patch object's path");
		real[n] = '\0';
		r = proc_mem_write(t->memfd, s + 256, real, (size_t)n + 1);
	}
	if (r == 0)
		r = remote_call_ok(rm, "openat", SYS_openat, AT_FDCWD, (long)(s + 256),
				   O_RDONLY | O_CLOEXEC, 0, 0, 0, ret_fd);
	if (r < 0)
		return r;
	snprintf(path, sizeof(path), "/proc/%d/fd/%ld", rm->t.tid, *ret_fd);
	if (stat(path, &theirs) < 0 || theirs.st_dev != ours.st_dev || theirs.st_ino != ours.st_ino)
		return hp_err(-EXDEV, "process %d opened a different file than the patch object",
			      rm->pid);
	return 0;
}

static int map_piece(struct remote *rm, uint64_t addr, uint64_t len, int prot, long fd,
		     uint64_t off)
{
	long got;
	int flags = MAP_PRIVATE | MAP_FIXED | (fd < 0 ? MAP_ANONYMOUS : 0);
	int r;

	if (!len)
		return 0;
	r = remote_call_ok(rm, "mmap", SYS_mmap, (long)addr, (long)len, prot, flags, fd,
			   (long)off, &got);
	if (r == 0 && (uint64_t)got != addr)
		r = hp_err(-EFAULT, "mmap in process %d returned the wrong address", rm->pid);
	return r;
}

/* Map one PT_LOAD: the RELRO part read-only, file pages, then anonymous bss. */
static int map_segment(struct load *l, struct remote *rm, const GElf_Phdr *ph, long fd)
{
	uint64_t start = page_down(ph->p_vaddr), file_end = page_up(ph->p_vaddr + ph->p_filesz);
	uint64_t mem_end = page_up(ph->p_vaddr + ph->p_memsz), split = start;
	uint64_t off = page_down(ph->p_offset);
	int prot = prot_of(ph), r;

	if (l->has_relro && is_image_segment(l, ph) && (ph->p_flags & PF_W)) {
		split = MIN(page_down(l->relro.p_vaddr + l->relro.p_memsz), file_end);
		split = MAX(split, start);
		r = map_piece(rm, l->base + start, split - start, PROT_READ, fd, off);
		if (r < 0)
			return r;
	}
	r = map_piece(rm, l->base + split, file_end - split, prot, fd, off + (split - start));
	if (r < 0)
		return r;
	return map_piece(rm, l->base + file_end, mem_end > file_end ? mem_end - file_end : 0, prot,
			 -1, 0);
}

/* PC-relative fields in the patch's code that reach the target's data: their
 * displacement depends on where the patch landed in this process. Written
 * through /proc/PID/mem, so the code pages stay read-only and executable;
 * only pages holding such a field become private. */
static int apply_textrels(struct load *l)
{
	const struct manifest *m = &l->b->manifest;

	for (size_t i = 0; i < m->ntextrels; i++) {
		const struct manifest_textrel *t = &m->textrels[i];
		uint64_t place = l->base + t->site;
		int64_t v = (int64_t)(l->t->mod->bias + t->target + (uint64_t)t->addend - place);
		int r;

		if (t->type == R_X86_64_PC32) {
			int32_t v32 = (int32_t)v;

			if (v != v32)
				return hp_err(-ERANGE, "the patch landed out of reach of the target's "
						       "data (relocation %zu)",
					      i);
			r = proc_mem_write(l->t->memfd, place, &v32, sizeof(v32));
		} else {
			r = proc_mem_write(l->t->memfd, place, &v, sizeof(v));
		}
		if (r < 0)
			return r;
	}
	return 0;
}

static int write_images(struct load *l)
{
	const struct manifest *m = &l->b->manifest;
	const struct image *rim = image_at(l, m->record_vaddr, m->record_size);
	int r;

	for (size_t i = 0; i < l->nimg; i++) {
		const struct image *im = &l->img[i];

		/* Only changed pages: the others stay shared page cache. */
		for (uint64_t off = 0; off < im->size; off += PAGE) {
			if (memcmp(im->data + off, im->orig + off, PAGE) == 0)
				continue;
			r = proc_mem_write(l->t->memfd, l->base + im->vaddr + off, im->data + off,
					   PAGE);
			if (r < 0)
				return r;
		}
	}
	r = apply_textrels(l);
	if (r < 0)
		return r;
	/* The record last: a valid record means a completely loaded object. */
	return proc_mem_write(l->t->memfd, l->base + m->record_vaddr,
			      rim->data + (m->record_vaddr - rim->vaddr), m->record_size);
}

static int map_all(struct load *l, struct remote *rm)
{
	long fd = -1;
	int r;

	r = remote_call_ok(rm, "mmap", SYS_mmap, (long)l->base, (long)l->size, PROT_NONE,
			   MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0, NULL);
	if (r < 0)
		return r;
	l->reserved = true;
	/* A scratch page at the base; the first segment replaces it later. */
	r = map_piece(rm, l->base, PAGE, PROT_READ | PROT_WRITE, -1, 0);
	if (r == 0) {
		r = remote_receive_fd(rm, l->t->object_fd, l->base, l->t->memfd, &fd);
		if (r == -ENOSYS || r == -EPERM || r == -EACCES) {
			hp_debug("pid %d: passing the object failed (%s); opening it by path",
				 rm->pid, hp_err_msg(r));
			fd = -1;
			r = open_by_path(rm, l->t, l->base, &fd);
		}
	}
	for (size_t i = 0; r == 0 && i < l->nloads; i++)
		r = map_segment(l, rm, &l->loads[i], fd);
	if (fd >= 0)
		remote_call_ok(rm, "close", SYS_close, fd, 0, 0, 0, 0, 0, NULL);
	return r;
}

static void load_free(struct load *l)
{
	for (size_t i = 0; i < l->nimg; i++) {
		free(l->img[i].data);
		free(l->img[i].orig);
	}
	free(l->symcache);
	elf_file_close(l->obj);
}

static int prepare(struct load *l)
{
	uint64_t tlo, thi;
	int r;

	r = elf_file_open_mem(l->b->object, l->b->object_size, "patch object", &l->obj);
	if (r < 0)
		return r;
	r = elf_file_segments(l->obj, &l->loads, &l->nloads);
	if (r < 0)
		return r;
	l->has_relro = elf_file_phdr(l->obj, PT_GNU_RELRO, &l->relro) == 0;
	r = loader_layout(l->b, &l->size, &tlo, &thi);
	if (r < 0)
		return r;
	l->nsymcache = 4096;
	l->symcache = calloc(l->nsymcache, sizeof(*l->symcache));
	if (!l->symcache)
		return hp_err(-ENOMEM, "out of memory");
	return placement_find(l->t->maps, l->t->mod->lo, l->t->mod->hi, l->size, &l->base);
}

int loader_load(struct remote *rm, const struct loader_target *t, const struct bundle *b,
		struct record *rec, struct loaded_object *ret)
{
	struct load l = {.t = t, .b = b};
	uint64_t tlo, thi;
	int r;

	/* Everything that can fail without touching the target comes first. */
	r = prepare(&l);
	if (r == 0)
		r = make_images(&l);
	if (r == 0)
		r = elf_file_foreach_dynrela(l.obj, apply_rela, &l);
	if (r == 0)
		r = place_record(&l, rec);
	if (r < 0)
		goto out;
	r = map_all(&l, rm);
	if (r == 0) {
		fault_point("load-mapped");
		r = write_images(&l);
	}
	if (r < 0) {
		if (l.reserved)
			loader_unload(rm, l.base, l.size);
		goto out;
	}
	loader_layout(b, &l.size, &tlo, &thi);
	*ret = (struct loaded_object){.base = l.base, .size = l.size, .text_lo = l.base + tlo,
				      .text_hi = l.base + thi};
out:
	load_free(&l);
	return r;
}

int loader_unload(struct remote *rm, uint64_t base, uint64_t size)
{
	return remote_call_ok(rm, "munmap", SYS_munmap, (long)base, (long)size, 0, 0, 0, 0, NULL);
}
