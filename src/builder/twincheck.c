/* SPDX-License-Identifier: MIT */
#include "twincheck.h"

#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "error.h"
#include "macro.h"

const char *twin_verdict_name(enum twin_verdict v)
{
	return v == TWIN_EXACT ? "exact" : v == TWIN_CODE_IDENTICAL ? "code-identical" : "refused";
}

struct elfh {
	int fd;
	Elf *e;
	size_t shstrndx;
};

static int elfh_open(const char *path, struct elfh *h)
{
	h->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (h->fd < 0)
		return hp_err(-errno, "cannot open %s: %m", path);
	elf_version(EV_CURRENT);
	h->e = elf_begin(h->fd, ELF_C_READ, NULL);
	if (!h->e || elf_kind(h->e) != ELF_K_ELF || elf_getshdrstrndx(h->e, &h->shstrndx) < 0)
		return hp_err(-EINVAL, "%s is not an ELF file", path);
	return 0;
}

static void elfh_close(struct elfh *h)
{
	if (h->e)
		elf_end(h->e);
	if (h->fd >= 0)
		close(h->fd);
}

static Elf_Scn *find_scn(struct elfh *h, const char *name, GElf_Shdr *ret)
{
	for (Elf_Scn *s = elf_nextscn(h->e, NULL); s; s = elf_nextscn(h->e, s)) {
		const char *n;

		if (!gelf_getshdr(s, ret))
			continue;
		n = elf_strptr(h->e, h->shstrndx, ret->sh_name);
		if (n && strcmp(n, name) == 0)
			return s;
	}
	return NULL;
}

static bool same_build_id(struct elfh *a, struct elfh *b)
{
	GElf_Shdr sa, sb;
	Elf_Scn *x = find_scn(a, ".note.gnu.build-id", &sa);
	Elf_Scn *y = find_scn(b, ".note.gnu.build-id", &sb);
	Elf_Data *da = x ? elf_getdata(x, NULL) : NULL, *db = y ? elf_getdata(y, NULL) : NULL;

	return da && db && da->d_size == db->d_size && da->d_size &&
	       memcmp(da->d_buf, db->d_buf, da->d_size) == 0;
}

static bool same_section(Elf_Scn *x, const GElf_Shdr *sa, Elf_Scn *y, const GElf_Shdr *sb)
{
	Elf_Data *da, *db;

	if (sa->sh_addr != sb->sh_addr || sa->sh_size != sb->sh_size ||
	    sa->sh_type != sb->sh_type || sa->sh_flags != sb->sh_flags)
		return false;
	if (sa->sh_type == SHT_NOBITS)
		return true;
	da = elf_getdata(x, NULL);
	db = elf_getdata(y, NULL);
	return da && db && da->d_size == db->d_size &&
	       memcmp(da->d_buf, db->d_buf, da->d_size) == 0;
}

/* Why loaded sections differ, from which ones do. */
static const char *likely_cause(const struct buf *names, bool text, bool missing)
{
	if (missing)
		return "the twin has a different set of sections: another configuration, "
		       "build dependency or toolchain";
	if (text)
		return "the code differs: other compiler flags, another compiler version, or "
		       "build dependencies at other versions than Debian's build had";
	if (names->len && strstr((const char *)names->data, ".rodata"))
		return "only data differs: usually an embedded string (build path, compiler "
		       "flags, a date) or a build dependency's constants";
	return "data or linking differs: build dependencies at other versions, or another "
	       "linker";
}

static int compare_loaded(struct elfh *a, struct elfh *b, struct buf *diff, bool *text,
			  bool *missing)
{
	for (Elf_Scn *x = elf_nextscn(a->e, NULL); x; x = elf_nextscn(a->e, x)) {
		GElf_Shdr sa, sb;
		const char *name;
		Elf_Scn *y;

		if (!gelf_getshdr(x, &sa) || !(sa.sh_flags & SHF_ALLOC))
			continue;
		name = elf_strptr(a->e, a->shstrndx, sa.sh_name);
		if (!name || strcmp(name, ".note.gnu.build-id") == 0)
			continue;
		y = find_scn(b, name, &sb);
		if (y && same_section(x, &sa, y, &sb))
			continue;
		*missing |= !y;
		*text |= (sa.sh_flags & SHF_EXECINSTR) != 0;
		buf_printf(diff, "%s%s", diff->len ? ", " : "", name);
	}
	return 0;
}

int twincheck(const char *shipped, const char *twin, enum twin_verdict *ret, char **ret_why)
{
	struct elfh a = {.fd = -1}, b = {.fd = -1};
	struct buf diff = {0};
	bool text = false, missing = false;
	char *why = NULL;
	int r;

	r = elfh_open(shipped, &a);
	if (r == 0)
		r = elfh_open(twin, &b);
	if (r < 0)
		goto out;
	if (same_build_id(&a, &b)) {
		*ret = TWIN_EXACT;
		r = asprintf(&why, "the twin's build-id equals %s's", shipped);
		goto out;
	}
	compare_loaded(&a, &b, &diff, &text, &missing);
	if (!diff.len) {
		*ret = TWIN_CODE_IDENTICAL;
		r = asprintf(&why, "build-ids differ (debug info differs), but every loaded section "
				   "of the twin is byte-identical to %s's",
			     shipped);
	} else {
		*ret = TWIN_REFUSED;
		r = asprintf(&why, "the rebuilt twin does not reproduce %s: loaded sections %s "
				   "differ; likely cause: %s",
			     shipped, buf_cstr(&diff), likely_cause(&diff, text, missing));
	}
out:
	if (r >= 0 && why) {
		*ret_why = why;
		r = 0;
	} else if (r >= 0) {
		r = hp_err(-ENOMEM, "out of memory");
	}
	buf_free(&diff);
	elfh_close(&a);
	elfh_close(&b);
	return r;
}
