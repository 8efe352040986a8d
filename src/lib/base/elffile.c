/* SPDX-License-Identifier: MIT */
#include "elffile.h"

#include <elf.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "arch.h"
#include "error.h"
#include "macro.h"

/* Files larger than this are not something we patch: refuse rather than read
 * gigabytes from a path an attacker may control. */
#define ELF_MAX_FILE_SIZE (2ULL << 30)

struct elf_file {
	int fd;
	Elf *elf;
	uint8_t *mem;
	size_t size;
	GElf_Ehdr ehdr;
	GElf_Phdr *loads;
	size_t nloads;
	char *name;
};

static int elf_init_once(void)
{
	static int ready;

	if (!ready) {
		if (elf_version(EV_CURRENT) == EV_NONE)
			return hp_err(-ENOTSUP, "libelf is too old: %s", elf_errmsg(-1));
		ready = 1;
	}
	return 0;
}

static int elf_file_validate(struct elf_file *ef)
{
	size_t phnum;

	if (elf_kind(ef->elf) != ELF_K_ELF)
		return hp_err(-ENOEXEC, "%s is not an ELF file", ef->name);
	if (!gelf_getehdr(ef->elf, &ef->ehdr))
		return hp_err(-ENOEXEC, "%s: bad ELF header: %s", ef->name, elf_errmsg(-1));
	/* Code of this build's own platform only (arch.h). */
	if (ef->ehdr.e_ident[EI_CLASS] != ELFCLASS64 || ef->ehdr.e_machine != ARCH_ELF_MACHINE)
		return hp_err(-ENOEXEC, "%s is not an %s ELF file; this build of hotpatch handles %s only",
			      ef->name, arch_name, arch_name);
	if (elf_getphdrnum(ef->elf, &phnum) < 0)
		return hp_err(-ENOEXEC, "%s: bad program headers: %s", ef->name, elf_errmsg(-1));
	ef->loads = calloc(phnum ? phnum : 1, sizeof(*ef->loads));
	if (!ef->loads)
		return hp_err(-ENOMEM, "out of memory");
	for (size_t i = 0; i < phnum; i++) {
		GElf_Phdr ph;

		if (!gelf_getphdr(ef->elf, (int)i, &ph))
			return hp_err(-ENOEXEC, "%s: bad program header %zu", ef->name, i);
		if (ph.p_type != PT_LOAD)
			continue;
		if (ph.p_offset > ef->size || ph.p_filesz > ef->size - ph.p_offset ||
		    ph.p_filesz > ph.p_memsz || ph.p_vaddr + ph.p_memsz < ph.p_vaddr)
			return hp_err(-ENOEXEC, "%s: PT_LOAD %zu lies outside the file", ef->name,
				      i);
		ef->loads[ef->nloads++] = ph;
	}
	return 0;
}

static int elf_file_new(const char *name, struct elf_file **ret)
{
	struct elf_file *ef;
	int r;

	r = elf_init_once();
	if (r < 0)
		return r;
	ef = calloc(1, sizeof(*ef));
	if (!ef)
		return hp_err(-ENOMEM, "out of memory");
	ef->fd = -1;
	ef->name = strdup(name ? name : "(memory)");
	if (!ef->name) {
		free(ef);
		return hp_err(-ENOMEM, "out of memory");
	}
	*ret = ef;
	return 0;
}

int elf_file_open_mem(const void *data, size_t size, const char *name, struct elf_file **ret)
{
	/* NULL although elf_file_new() sets it on success: gcc -O3 cannot see
	 * that hp_err() returns a negative value (-Wmaybe-uninitialized). */
	struct elf_file *ef = NULL;
	int r;

	r = elf_file_new(name, &ef);
	if (r < 0)
		return r;
	ef->mem = malloc(size ? size : 1);
	if (!ef->mem) {
		r = hp_err(-ENOMEM, "out of memory");
		goto fail;
	}
	memcpy(ef->mem, data, size);
	ef->size = size;
	ef->elf = elf_memory((char *)ef->mem, size);
	if (!ef->elf) {
		r = hp_err(-ENOEXEC, "%s: %s", ef->name, elf_errmsg(-1));
		goto fail;
	}
	r = elf_file_validate(ef);
	if (r < 0)
		goto fail;
	*ret = ef;
	return 0;
fail:
	elf_file_close(ef);
	return r;
}

int elf_file_open_fd(int fd, const char *name, struct elf_file **ret)
{
	struct elf_file *ef = NULL; /* see elf_file_open_mem() */
	struct stat st;
	int r;

	r = elf_file_new(name, &ef);
	if (r < 0) {
		close(fd);
		return r;
	}
	ef->fd = fd;
	if (fstat(fd, &st) < 0) {
		r = hp_err(-errno, "cannot stat %s: %m", ef->name);
		goto fail;
	}
	if (!S_ISREG(st.st_mode) || (uint64_t)st.st_size > ELF_MAX_FILE_SIZE) {
		r = hp_err(-EFBIG, "%s is not a regular file of a sane size", ef->name);
		goto fail;
	}
	ef->size = (size_t)st.st_size;
	/* ELF_C_READ reads through the fd instead of mmap, so a file truncated
	 * under us yields an error rather than SIGBUS. */
	ef->elf = elf_begin(fd, ELF_C_READ, NULL);
	if (!ef->elf) {
		r = hp_err(-ENOEXEC, "%s: %s", ef->name, elf_errmsg(-1));
		goto fail;
	}
	r = elf_file_validate(ef);
	if (r < 0)
		goto fail;
	*ret = ef;
	return 0;
fail:
	elf_file_close(ef);
	return r;
}

int elf_file_open(const char *path, struct elf_file **ret)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return hp_err(-errno, "cannot open %s: %m", path);
	return elf_file_open_fd(fd, path, ret);
}

struct elf_file *elf_file_close(struct elf_file *ef)
{
	if (!ef)
		return NULL;
	if (ef->elf)
		elf_end(ef->elf);
	if (ef->fd >= 0)
		close(ef->fd);
	free(ef->mem);
	free(ef->loads);
	free(ef->name);
	free(ef);
	return NULL;
}

const char *elf_file_name(const struct elf_file *ef)
{
	return ef->name;
}

const GElf_Ehdr *elf_file_ehdr(const struct elf_file *ef)
{
	return &ef->ehdr;
}

Elf *elf_file_elf(const struct elf_file *ef)
{
	return ef->elf;
}

const uint8_t *elf_file_image(const struct elf_file *ef, size_t *ret_size)
{
	size_t n = 0;
	char *p = elf_rawfile(ef->elf, &n);

	*ret_size = n;
	return (const uint8_t *)p;
}

static int build_id_from_notes(Elf_Data *data, uint8_t *ret_id, size_t *ret_len)
{
	size_t off = 0, name_off, desc_off;
	GElf_Nhdr nh;

	while ((off = gelf_getnote(data, off, &nh, &name_off, &desc_off)) > 0) {
		if (nh.n_type != NT_GNU_BUILD_ID || nh.n_namesz != 4 ||
		    memcmp((char *)data->d_buf + name_off, "GNU", 4) != 0)
			continue;
		if (nh.n_descsz == 0 || nh.n_descsz > HP_BUILD_ID_MAX)
			return -EBADMSG;
		memcpy(ret_id, (char *)data->d_buf + desc_off, nh.n_descsz);
		*ret_len = nh.n_descsz;
		return 0;
	}
	return -ENOENT;
}

int elf_file_build_id(struct elf_file *ef, uint8_t *ret_id, size_t *ret_len)
{
	size_t phnum;

	if (elf_getphdrnum(ef->elf, &phnum) < 0)
		phnum = 0;
	for (size_t i = 0; i < phnum; i++) {
		GElf_Phdr ph;
		Elf_Data *d;

		if (!gelf_getphdr(ef->elf, (int)i, &ph) || ph.p_type != PT_NOTE)
			continue;
		if (ph.p_offset > ef->size || ph.p_filesz > ef->size - ph.p_offset)
			continue;
		d = elf_getdata_rawchunk(ef->elf, (int64_t)ph.p_offset, ph.p_filesz,
					 ph.p_align == 8 ? ELF_T_NHDR8 : ELF_T_NHDR);
		if (d && build_id_from_notes(d, ret_id, ret_len) == 0)
			return 0;
	}
	/* Separate debuginfo files keep the note as a section only. */
	for (Elf_Scn *scn = NULL; (scn = elf_nextscn(ef->elf, scn));) {
		GElf_Shdr sh;
		Elf_Data *d;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_NOTE)
			continue;
		d = elf_getdata(scn, NULL);
		if (d && build_id_from_notes(d, ret_id, ret_len) == 0)
			return 0;
	}
	return hp_err(-ENOENT, "%s has no GNU build-id note; hotpatch needs one to identify the "
			       "exact build (link with -Wl,--build-id)",
		      ef->name);
}

int elf_file_section(struct elf_file *ef, const char *name, GElf_Shdr *ret_shdr,
		     const uint8_t **ret_data, size_t *ret_size)
{
	size_t shstrndx;

	if (elf_getshdrstrndx(ef->elf, &shstrndx) < 0)
		return hp_err(-ENOEXEC, "%s: no section name table", ef->name);
	for (Elf_Scn *scn = NULL; (scn = elf_nextscn(ef->elf, scn));) {
		GElf_Shdr sh;
		const char *n;
		Elf_Data *d;

		if (!gelf_getshdr(scn, &sh))
			continue;
		n = elf_strptr(ef->elf, shstrndx, sh.sh_name);
		if (!n || strcmp(n, name) != 0)
			continue;
		if (ret_shdr)
			*ret_shdr = sh;
		if (!ret_data)
			return 0;
		if (sh.sh_type == SHT_NOBITS)
			return hp_err(-ENODATA, "%s: section %s has no file data", ef->name, name);
		d = elf_getdata(scn, NULL);
		if (!d)
			return hp_err(-EBADMSG, "%s: unreadable section %s", ef->name, name);
		*ret_data = d->d_buf;
		*ret_size = d->d_size;
		return 0;
	}
	return -ENOENT;
}

int elf_file_segments(struct elf_file *ef, GElf_Phdr **ret_phdrs, size_t *ret_n)
{
	*ret_phdrs = ef->loads;
	*ret_n = ef->nloads;
	return ef->nloads ? 0 : hp_err(-ENOEXEC, "%s has no loadable segments", ef->name);
}

int elf_file_phdr(struct elf_file *ef, uint32_t type, GElf_Phdr *ret)
{
	size_t phnum;

	if (elf_getphdrnum(ef->elf, &phnum) < 0)
		return -ENOENT;
	for (size_t i = 0; i < phnum; i++)
		if (gelf_getphdr(ef->elf, (int)i, ret) && ret->p_type == type)
			return 0;
	return -ENOENT;
}

int elf_file_read_vaddr(struct elf_file *ef, uint64_t vaddr, void *buf, size_t len)
{
	for (size_t i = 0; i < ef->nloads; i++) {
		const GElf_Phdr *ph = &ef->loads[i];
		uint64_t off;

		if (vaddr < ph->p_vaddr || vaddr - ph->p_vaddr > ph->p_filesz ||
		    len > ph->p_filesz - (vaddr - ph->p_vaddr))
			continue;
		off = ph->p_offset + (vaddr - ph->p_vaddr);
		if (ef->mem) {
			memcpy(buf, ef->mem + off, len);
			return 0;
		}
		if (pread(ef->fd, buf, len, (off_t)off) != (ssize_t)len)
			return hp_err(-EIO, "%s: short read at 0x%llx", ef->name,
				      (unsigned long long)vaddr);
		return 0;
	}
	return hp_err(-EFAULT, "%s: address 0x%llx+%zu is not in the file's loaded contents",
		      ef->name, (unsigned long long)vaddr, len);
}

int elf_file_load_span(struct elf_file *ef, uint64_t *ret_lo, uint64_t *ret_hi)
{
	uint64_t lo = UINT64_MAX, hi = 0;

	for (size_t i = 0; i < ef->nloads; i++) {
		lo = MIN(lo, ef->loads[i].p_vaddr & ~4095ULL);
		hi = MAX(hi, (ef->loads[i].p_vaddr + ef->loads[i].p_memsz + 4095) & ~4095ULL);
	}
	if (!ef->nloads)
		return hp_err(-ENOEXEC, "%s has no loadable segments", ef->name);
	*ret_lo = lo;
	*ret_hi = hi;
	return 0;
}

/* Symbol versions: .gnu.version gives, per .dynsym index, an index that names
 * a version either in .gnu.version_d (definitions) or .gnu.version_r (needs). */
struct versions {
	Elf_Data *versym;
	Elf_Scn *verdef;
	Elf_Scn *verneed;
	size_t verdef_str;
	size_t verneed_str;
};

static void versions_find(struct elf_file *ef, struct versions *v)
{
	*v = (struct versions){0};
	for (Elf_Scn *scn = NULL; (scn = elf_nextscn(ef->elf, scn));) {
		GElf_Shdr sh;

		if (!gelf_getshdr(scn, &sh))
			continue;
		if (sh.sh_type == SHT_GNU_versym)
			v->versym = elf_getdata(scn, NULL);
		else if (sh.sh_type == SHT_GNU_verdef) {
			v->verdef = scn;
			v->verdef_str = sh.sh_link;
		} else if (sh.sh_type == SHT_GNU_verneed) {
			v->verneed = scn;
			v->verneed_str = sh.sh_link;
		}
	}
}

static const char *version_in_verneed(struct elf_file *ef, const struct versions *v, int idx)
{
	Elf_Data *d = v->verneed ? elf_getdata(v->verneed, NULL) : NULL;
	size_t off = 0;

	for (int guard = 0; d && guard < 4096; guard++) {
		GElf_Verneed vn;
		size_t aoff;

		if (!gelf_getverneed(d, (int)off, &vn))
			return NULL;
		aoff = off + vn.vn_aux;
		for (unsigned j = 0; j < vn.vn_cnt && j < 4096; j++) {
			GElf_Vernaux va;

			if (!gelf_getvernaux(d, (int)aoff, &va))
				return NULL;
			if (va.vna_other == idx)
				return elf_strptr(ef->elf, v->verneed_str, va.vna_name);
			if (!va.vna_next)
				break;
			aoff += va.vna_next;
		}
		if (!vn.vn_next)
			return NULL;
		off += vn.vn_next;
	}
	return NULL;
}

static const char *version_in_verdef(struct elf_file *ef, const struct versions *v, int idx)
{
	Elf_Data *d = v->verdef ? elf_getdata(v->verdef, NULL) : NULL;
	size_t off = 0;

	for (int guard = 0; d && guard < 4096; guard++) {
		GElf_Verdef vd;
		GElf_Verdaux va;

		if (!gelf_getverdef(d, (int)off, &vd))
			return NULL;
		if (vd.vd_ndx == idx && !(vd.vd_flags & VER_FLG_BASE)) {
			if (!gelf_getverdaux(d, (int)(off + vd.vd_aux), &va))
				return NULL;
			return elf_strptr(ef->elf, v->verdef_str, va.vda_name);
		}
		if (!vd.vd_next)
			return NULL;
		off += vd.vd_next;
	}
	return NULL;
}

static void symbol_version(struct elf_file *ef, const struct versions *v, size_t index,
			   bool undefined, struct elf_sym *s)
{
	GElf_Versym vs;
	int idx;

	if (!v->versym || !gelf_getversym(v->versym, (int)index, &vs))
		return;
	idx = vs & 0x7fff;
	if (idx <= 1)
		return;
	s->version_hidden = (vs & 0x8000) != 0;
	s->version = undefined ? version_in_verneed(ef, v, idx) : version_in_verdef(ef, v, idx);
}

static Elf_Scn *symbol_table(struct elf_file *ef, bool dynamic, GElf_Shdr *ret_sh)
{
	uint32_t want = dynamic ? SHT_DYNSYM : SHT_SYMTAB;

	for (Elf_Scn *scn = NULL; (scn = elf_nextscn(ef->elf, scn));)
		if (gelf_getshdr(scn, ret_sh) && ret_sh->sh_type == want)
			return scn;
	return NULL;
}

static int fill_symbol(struct elf_file *ef, Elf_Data *d, const GElf_Shdr *sh,
		       const struct versions *v, size_t i, struct elf_sym *s)
{
	GElf_Sym sym;

	if (!gelf_getsym(d, (int)i, &sym))
		return -EBADMSG;
	*s = (struct elf_sym){
		.name = elf_strptr(ef->elf, sh->sh_link, sym.st_name),
		.value = sym.st_value,
		.size = sym.st_size,
		.index = i,
		.shndx = sym.st_shndx,
		.type = GELF_ST_TYPE(sym.st_info),
		.bind = GELF_ST_BIND(sym.st_info),
		.visibility = GELF_ST_VISIBILITY(sym.st_other),
	};
	if (!s->name)
		s->name = "";
	if (v)
		symbol_version(ef, v, i, sym.st_shndx == SHN_UNDEF, s);
	return 0;
}

int elf_file_foreach_symbol(struct elf_file *ef, bool dynamic, elf_sym_cb cb, void *arg)
{
	struct versions v;
	const char *file = NULL;
	GElf_Shdr sh;
	Elf_Scn *scn;
	Elf_Data *d;
	size_t n;

	scn = symbol_table(ef, dynamic, &sh);
	if (!scn)
		return -ENOENT;
	d = elf_getdata(scn, NULL);
	if (!d || !sh.sh_entsize)
		return hp_err(-EBADMSG, "%s: unreadable symbol table", ef->name);
	n = d->d_size / sizeof(Elf64_Sym);
	if (dynamic)
		versions_find(ef, &v);
	for (size_t i = 1; i < n; i++) {
		struct elf_sym s;
		int r;

		if (fill_symbol(ef, d, &sh, dynamic ? &v : NULL, i, &s) < 0)
			return hp_err(-EBADMSG, "%s: bad symbol %zu", ef->name, i);
		if (s.type == STT_FILE) {
			file = s.name;
			continue;
		}
		/* Locals follow the STT_FILE of their translation unit; globals
		 * come after all locals, where the last file no longer applies. */
		s.file = s.bind == STB_LOCAL ? file : NULL;
		r = cb(&s, arg);
		if (r)
			return r;
	}
	return 0;
}

int elf_file_dynsym(struct elf_file *ef, size_t index, struct elf_sym *ret)
{
	struct versions v;
	GElf_Shdr sh;
	Elf_Scn *scn;
	Elf_Data *d;

	scn = symbol_table(ef, true, &sh);
	if (!scn || !(d = elf_getdata(scn, NULL)))
		return hp_err(-ENOENT, "%s has no dynamic symbol table", ef->name);
	if (index >= d->d_size / sizeof(Elf64_Sym))
		return hp_err(-EBADMSG, "%s: symbol index %zu out of range", ef->name, index);
	versions_find(ef, &v);
	if (fill_symbol(ef, d, &sh, &v, index, ret) < 0)
		return hp_err(-EBADMSG, "%s: bad symbol %zu", ef->name, index);
	return 0;
}

int elf_file_foreach_dynrela(struct elf_file *ef, elf_rela_cb cb, void *arg)
{
	for (Elf_Scn *scn = NULL; (scn = elf_nextscn(ef->elf, scn));) {
		GElf_Shdr sh;
		Elf_Data *d;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_RELA || !(sh.sh_flags & SHF_ALLOC))
			continue;
		d = elf_getdata(scn, NULL);
		if (!d)
			return hp_err(-EBADMSG, "%s: unreadable relocations", ef->name);
		for (size_t i = 0; i < d->d_size / sizeof(Elf64_Rela); i++) {
			GElf_Rela rela;
			struct elf_rela r;
			int ret;

			if (!gelf_getrela(d, (int)i, &rela))
				return hp_err(-EBADMSG, "%s: bad relocation %zu", ef->name, i);
			r = (struct elf_rela){
				.offset = rela.r_offset,
				.type = (uint32_t)GELF_R_TYPE(rela.r_info),
				.sym = (uint32_t)GELF_R_SYM(rela.r_info),
				.addend = rela.r_addend,
			};
			ret = cb(&r, arg);
			if (ret)
				return ret;
		}
	}
	return 0;
}
