/* SPDX-License-Identifier: MIT */
#include "patchobj.h"

#include <elf.h>
#include <stdlib.h>
#include <string.h>

#include "elffile.h"
#include "error.h"
#include "macro.h"
#include "strv.h"

void patch_meta_free(struct patch_meta *m)
{
	for (size_t i = 0; i < m->nrep; i++) {
		free(m->rep[i].old);
		free(m->rep[i].file);
		free(m->rep[i].new);
	}
	free(m->rep);
	for (size_t i = 0; i < m->nimp; i++) {
		free(m->imp[i].alias);
		free(m->imp[i].name);
		free(m->imp[i].file);
	}
	free(m->imp);
	strv_free_n(m->cves, m->ncves);
	free(m->description);
	*m = (struct patch_meta){0};
}

/* Splits a section of NUL-terminated strings into a vector. */
static int section_strings(struct elf_file *obj, const char *name, char ***ret, size_t *ret_n)
{
	const uint8_t *p;
	size_t size, n = 0;
	char **v;
	int r;

	*ret = NULL;
	*ret_n = 0;
	r = elf_file_section(obj, name, NULL, &p, &size);
	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return r;
	if (size && p[size - 1] != '\0')
		return hp_err(-EBADMSG, "section %s is not NUL-terminated", name);
	for (size_t i = 0; i < size; i++)
		n += p[i] == '\0';
	v = calloc(n ? n : 1, sizeof(*v));
	if (!v)
		return hp_err(-ENOMEM, "out of memory");
	for (size_t i = 0, off = 0; i < n; i++) {
		v[i] = strdup((const char *)p + off);
		if (!v[i]) {
			strv_free_n(v, i);
			return hp_err(-ENOMEM, "out of memory");
		}
		off += strlen(v[i]) + 1;
	}
	*ret = v;
	*ret_n = n;
	return 0;
}

static int read_triples(struct elf_file *obj, const char *section, char ***ret, size_t *ret_n)
{
	int r = section_strings(obj, section, ret, ret_n);

	if (r < 0)
		return r;
	if (*ret_n % 3) {
		strv_free_n(*ret, *ret_n);
		return hp_err(-EBADMSG, "section %s is malformed; was it written by "
					"<hotpatch/patch.h>?",
			      section);
	}
	return 0;
}

static int meta_replaces(struct elf_file *obj, struct patch_meta *m)
{
	char **v;
	size_t n;
	int r = read_triples(obj, ".hotpatch.replace", &v, &n);

	if (r < 0)
		return r;
	m->rep = calloc(n / 3 + 1, sizeof(*m->rep));
	if (!m->rep) {
		strv_free_n(v, n);
		return hp_err(-ENOMEM, "out of memory");
	}
	for (size_t i = 0; i < n; i += 3)
		m->rep[m->nrep++] = (struct patch_replace){v[i], v[i + 1], v[i + 2]};
	free(v);
	return 0;
}

static int meta_imports(struct elf_file *obj, struct patch_meta *m)
{
	char **v;
	size_t n;
	int r = read_triples(obj, ".hotpatch.import", &v, &n);

	if (r < 0)
		return r;
	m->imp = calloc(n / 3 + 1, sizeof(*m->imp));
	if (!m->imp) {
		strv_free_n(v, n);
		return hp_err(-ENOMEM, "out of memory");
	}
	for (size_t i = 0; i < n; i += 3)
		m->imp[m->nimp++] = (struct patch_import){v[i], v[i + 1], v[i + 2]};
	free(v);
	return 0;
}

static int meta_description(struct elf_file *obj, struct patch_meta *m)
{
	char **v;
	size_t n;
	int r = section_strings(obj, ".hotpatch.desc", &v, &n);

	if (r < 0)
		return r;
	if (n) {
		m->description = v[0];
		for (size_t i = 1; i < n; i++)
			free(v[i]);
	}
	free(v);
	return 0;
}

int patchobj_read_meta(struct elf_file *obj, struct patch_meta *ret)
{
	struct patch_meta m = {0};
	int r;

	r = meta_replaces(obj, &m);
	if (r == 0)
		r = meta_imports(obj, &m);
	if (r == 0)
		r = section_strings(obj, ".hotpatch.cve", &m.cves, &m.ncves);
	if (r == 0)
		r = meta_description(obj, &m);
	if (r < 0) {
		patch_meta_free(&m);
		return r;
	}
	if (!m.nrep) {
		patch_meta_free(&m);
		return hp_err(-EINVAL, "the patch replaces no function: add "
				       "HOTPATCH_REPLACE(old, new) to the patch source");
	}
	*ret = m;
	return 0;
}

const struct patch_import *patch_meta_import(const struct patch_meta *m, const char *alias)
{
	for (size_t i = 0; i < m->nimp; i++)
		if (strcmp(m->imp[i].alias, alias) == 0)
			return &m->imp[i];
	return NULL;
}

static int check_dynamic(struct elf_file *obj)
{
	const uint8_t *p;
	size_t size;
	int r = elf_file_section(obj, ".dynamic", NULL, &p, &size);

	if (r < 0)
		return hp_err(-EINVAL, "the patch object has no dynamic section");
	for (size_t off = 0; off + sizeof(Elf64_Dyn) <= size; off += sizeof(Elf64_Dyn)) {
		Elf64_Dyn d;

		memcpy(&d, p + off, sizeof(d));
		switch (d.d_tag) {
		case DT_INIT:
		case DT_FINI:
		case DT_PREINIT_ARRAY:
			return hp_err(-EINVAL, "the patch has constructors or destructors, which "
					       "hotpatch never runs; remove them");
		case DT_INIT_ARRAYSZ:
		case DT_FINI_ARRAYSZ:
			if (d.d_un.d_val)
				return hp_err(-EINVAL, "the patch has constructors or destructors "
						       "(__attribute__((constructor)) or C++ "
						       "statics), which hotpatch never runs; "
						       "remove them");
			break;
		case DT_TEXTREL:
			return hp_err(-EINVAL, "the patch object needs text relocations; compile it "
					       "with -fPIC");
		default:
			break;
		}
	}
	return 0;
}

static int check_rela(const struct elf_rela *r, void *arg)
{
	struct elf_file *obj = arg;
	GElf_Phdr *loads;
	size_t n;

	switch (r->type) {
	case R_X86_64_NONE:
	case R_X86_64_64:
	case R_X86_64_GLOB_DAT:
	case R_X86_64_JUMP_SLOT:
	case R_X86_64_RELATIVE:
		break;
	case R_X86_64_DTPMOD64:
	case R_X86_64_DTPOFF64:
	case R_X86_64_TPOFF64:
		return hp_err(-EINVAL, "the patch uses thread-local storage, which hotpatch cannot "
				       "allocate in a running process; use a global instead");
	case R_X86_64_IRELATIVE:
		return hp_err(-EINVAL, "the patch uses an IFUNC, whose resolver would have to run "
				       "in the target; call a plain function instead");
	default:
		return hp_err(-EINVAL, "the patch object needs relocation type %u, which hotpatch "
				       "does not apply",
			      r->type);
	}
	elf_file_segments(obj, &loads, &n);
	for (size_t i = 0; i < n; i++)
		if ((loads[i].p_flags & PF_X) && r->offset >= loads[i].p_vaddr &&
		    r->offset < loads[i].p_vaddr + loads[i].p_memsz)
			return hp_err(-EINVAL, "the patch object relocates its own code; compile "
					       "it with -fPIC");
	return 0;
}

int patchobj_check(struct elf_file *obj)
{
	GElf_Phdr ph;
	int r;

	if (elf_file_ehdr(obj)->e_type != ET_DYN)
		return hp_err(-EINVAL, "the patch object is not a shared object");
	if (elf_file_phdr(obj, PT_TLS, &ph) == 0)
		return hp_err(-EINVAL, "the patch uses thread-local storage, which hotpatch cannot "
				       "allocate in a running process; use a global instead");
	r = check_dynamic(obj);
	if (r < 0)
		return r;
	return elf_file_foreach_dynrela(obj, check_rela, obj);
}
