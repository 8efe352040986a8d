/* SPDX-License-Identifier: MIT */
#include "objdiff.h"

#include <elf.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "elffile.h"
#include "linemove.h"
#include "error.h"
#include "macro.h"

#define IDENT_MAX 512

void obj_close(struct obj *o)
{
	for (size_t i = 0; i < o->nsec; i++)
		free(o->sec[i].rel);
	free(o->sec);
	free(o->sym);
	free(o->path);
	free(o->rel);
	free(o->file);
	elf_file_close(o->ef);
	*o = (struct obj){0};
}

static int read_sections(struct obj *o, Elf *e)
{
	size_t n, shstrndx;

	if (elf_getshdrnum(e, &n) < 0 || elf_getshdrstrndx(e, &shstrndx) < 0 || n > 1000000)
		return hp_err(-EBADMSG, "%s: unreadable section headers", o->path);
	o->sec = calloc(n ? n : 1, sizeof(*o->sec));
	if (!o->sec)
		return hp_err(-ENOMEM, "out of memory");
	o->nsec = n;
	for (size_t i = 1; i < n; i++) {
		Elf_Scn *scn = elf_getscn(e, i);
		struct osec *s = &o->sec[i];
		Elf_Data *d;

		s->owner = -1;
		if (!scn || !gelf_getshdr(scn, &s->sh))
			return hp_err(-EBADMSG, "%s: bad section %zu", o->path, i);
		s->name = elf_strptr(e, shstrndx, s->sh.sh_name);
		if (!s->name)
			s->name = "";
		if (s->sh.sh_type == SHT_NOBITS || !s->sh.sh_size)
			continue;
		d = elf_getdata(scn, NULL);
		if (!d || d->d_size != s->sh.sh_size)
			return hp_err(-EBADMSG, "%s: unreadable section %s", o->path, s->name);
		s->data = d->d_buf;
	}
	return 0;
}

static int read_symbols(struct obj *o, Elf *e)
{
	for (size_t i = 1; i < o->nsec; i++) {
		Elf_Data *d;
		size_t n;

		if (o->sec[i].sh.sh_type != SHT_SYMTAB)
			continue;
		d = elf_getdata(elf_getscn(e, i), NULL);
		if (!d)
			return hp_err(-EBADMSG, "%s: unreadable symbol table", o->path);
		n = d->d_size / sizeof(Elf64_Sym);
		o->sym = calloc(n ? n : 1, sizeof(*o->sym));
		if (!o->sym)
			return hp_err(-ENOMEM, "out of memory");
		o->nsym = n;
		for (size_t k = 0; k < n; k++) {
			GElf_Sym sym;
			const char *name;

			if (!gelf_getsym(d, (int)k, &sym))
				return hp_err(-EBADMSG, "%s: bad symbol %zu", o->path, k);
			name = elf_strptr(e, o->sec[i].sh.sh_link, sym.st_name);
			o->sym[k] = (struct osym){
				.name = name ? name : "", .value = sym.st_value,
				.size = sym.st_size, .shndx = sym.st_shndx,
				.type = GELF_ST_TYPE(sym.st_info), .bind = GELF_ST_BIND(sym.st_info),
				.vis = GELF_ST_VISIBILITY(sym.st_other),
			};
			if (o->sym[k].type == STT_FILE && !o->file)
				o->file = strdup(o->sym[k].name);
		}
		return 0;
	}
	/* nothing defined, nothing referred to (glibc's empty csu/sysdep.o) */
	return 0;
}

static int read_relocations(struct obj *o, Elf *e)
{
	for (size_t i = 1; i < o->nsec; i++) {
		const GElf_Shdr *sh = &o->sec[i].sh;
		struct osec *target;
		Elf_Data *d;
		size_t n;

		if (sh->sh_type != SHT_RELA)
			continue;
		if (sh->sh_info == 0 || sh->sh_info >= o->nsec)
			return hp_err(-EBADMSG, "%s: relocations for a bad section", o->path);
		target = &o->sec[sh->sh_info];
		d = elf_getdata(elf_getscn(e, i), NULL);
		n = d ? d->d_size / sizeof(Elf64_Rela) : 0;
		target->rel = calloc(n ? n : 1, sizeof(*target->rel));
		if (!target->rel)
			return hp_err(-ENOMEM, "out of memory");
		for (size_t k = 0; k < n; k++) {
			GElf_Rela r;

			if (!gelf_getrela(d, (int)k, &r) || GELF_R_SYM(r.r_info) >= o->nsym)
				return hp_err(-EBADMSG, "%s: bad relocation", o->path);
			target->rel[target->nrel++] = (struct orel){
				.offset = r.r_offset, .type = (uint32_t)GELF_R_TYPE(r.r_info),
				.sym = (uint32_t)GELF_R_SYM(r.r_info), .addend = r.r_addend,
			};
		}
	}
	return 0;
}

/* Which symbol a section's contents belong to: with per-function and
 * per-variable sections, the one defined at offset 0. */
static void find_owners(struct obj *o)
{
	for (size_t k = 1; k < o->nsym; k++) {
		const struct osym *s = &o->sym[k];

		if ((s->type != STT_FUNC && s->type != STT_OBJECT && s->type != STT_TLS) ||
		    s->shndx == SHN_UNDEF || s->shndx >= o->nsec || s->value != 0)
			continue;
		if (o->sec[s->shndx].owner < 0 || s->bind != STB_LOCAL)
			o->sec[s->shndx].owner = (int)k;
	}
}

int obj_open(const char *path, const char *rel, struct obj *ret)
{
	struct obj o = {.path = strdup(path), .rel = strdup(rel)};
	Elf *e;
	int r;

	if (!o.path || !o.rel) {
		obj_close(&o);
		return hp_err(-ENOMEM, "out of memory");
	}
	r = elf_file_open(path, &o.ef);
	if (r < 0)
		goto fail;
	e = elf_file_elf(o.ef);
	if (elf_file_ehdr(o.ef)->e_type != ET_REL) {
		r = hp_err(-EINVAL, "%s is not a relocatable object", path);
		goto fail;
	}
	r = read_sections(&o, e);
	if (r == 0)
		r = read_symbols(&o, e);
	if (r == 0)
		r = read_relocations(&o, e);
	if (r < 0)
		goto fail;
	find_owners(&o);
	if (!o.file)
		o.file = strdup(rel);
	*ret = o;
	return 0;
fail:
	obj_close(&o);
	return r;
}

int obj_find_section(const struct obj *o, const char *name)
{
	for (size_t i = 1; i < o->nsec; i++)
		if (strcmp(o->sec[i].name, name) == 0)
			return (int)i;
	return -1;
}

bool osec_is_code(const struct osec *s)
{
	return (s->sh.sh_flags & SHF_ALLOC) && (s->sh.sh_flags & SHF_EXECINSTR);
}

static bool is_merge_strings(const struct osec *s)
{
	return (s->sh.sh_flags & SHF_MERGE) && (s->sh.sh_flags & SHF_STRINGS);
}

bool osec_is_data(const struct osec *s)
{
	if (!(s->sh.sh_flags & SHF_ALLOC) || (s->sh.sh_flags & SHF_EXECINSTR))
		return false;
	/* Unwind tables and notes are rebuilt by the linker, not patched. */
	return strcmp(s->name, ".eh_frame") != 0 && strncmp(s->name, ".note", 5) != 0 &&
	       s->sh.sh_type != SHT_GROUP;
}

static bool is_readonly(const struct osec *s)
{
	return !(s->sh.sh_flags & SHF_WRITE) || strncmp(s->name, ".data.rel.ro", 12) == 0;
}

const char *osec_label(const struct obj *o, size_t sec)
{
	int owner = o->sec[sec].owner;

	return owner >= 0 ? o->sym[owner].name : o->sec[sec].name;
}

static bool pc_relative(uint32_t type)
{
	return type == R_X86_64_PC32 || type == R_X86_64_PLT32 || type == R_X86_64_GOTPCREL ||
	       type == R_X86_64_GOTPCRELX || type == R_X86_64_REX_GOTPCRELX ||
	       type == R_X86_64_PC64;
}

/* Where in a merged section a relocation points. PC-relative addends carry
 * the distance from the displacement to the end of the instruction (4, or
 * more when an immediate follows); the right one starts an entry. */
static int64_t merged_offset(const struct osec *s, const struct orel *r)
{
	static const int adjust[] = {4, 5, 6, 8};
	uint64_t ent = s->sh.sh_entsize ? s->sh.sh_entsize : 1;

	if (!pc_relative(r->type))
		return r->addend;
	for (size_t i = 0; i < ARRAY_SIZE(adjust); i++) {
		int64_t off = r->addend + adjust[i];

		if (off < 0 || (uint64_t)off >= s->sh.sh_size)
			continue;
		if (is_merge_strings(s) ? (off == 0 || s->data[off - 1] == '\0') : off % (int64_t)ent == 0)
			return off;
	}
	return r->addend + 4;
}

static void merged_identity(const struct osec *s, const struct orel *r, char *buf, size_t len)
{
	int64_t off = merged_offset(s, r);
	size_t ent = s->sh.sh_entsize ? s->sh.sh_entsize : 1;

	if (!s->data || off < 0 || (uint64_t)off >= s->sh.sh_size) {
		snprintf(buf, len, "sec:%s%+" PRId64, s->name, r->addend);
		return;
	}
	if (is_merge_strings(s)) {
		snprintf(buf, len, "str:%.*s@%" PRId64, (int)MIN(IDENT_MAX / 2, s->sh.sh_size - off),
			 (const char *)s->data + off, r->addend - off);
		return;
	}
	snprintf(buf, len, "cst@%" PRId64 ":", r->addend - off);
	for (size_t i = 0; i < ent && (uint64_t)off + i < s->sh.sh_size && i < 64; i++)
		snprintf(buf + strlen(buf), len - strlen(buf), "%02x", s->data[off + i]);
}

/* GCC numbers function-local statics (__PRETTY_FUNCTION__.9) in the order
 * it meets them in a file, so a fix that adds one (an assert()) renumbers
 * every later one, and their sections get new names. One that is read-only
 * and holds no address is just its bytes: it is named by those. */
static bool numbered_local_const(const struct obj *o, size_t shndx)
{
	const struct osec *s = &o->sec[shndx];
	const struct osym *owner;
	const char *dot;

	if (s->owner < 0 || (s->sh.sh_flags & (SHF_WRITE | SHF_MERGE)) || s->nrel || !s->data ||
	    strncmp(s->name, ".data.rel.ro", 12) == 0)
		return false;
	owner = &o->sym[s->owner];
	if (owner->bind != STB_LOCAL || owner->type != STT_OBJECT)
		return false;
	dot = strrchr(owner->name, '.');
	return dot && dot[1] && strspn(dot + 1, "0123456789") == strlen(dot + 1);
}

static void const_identity(const struct obj *o, size_t shndx, int64_t addend, char *buf,
			   size_t len)
{
	const struct osec *s = &o->sec[shndx];
	const char *name = o->sym[s->owner].name;
	uint64_t h = 0xcbf29ce484222325ULL; /* FNV-1a */

	for (size_t i = 0; i < s->sh.sh_size; i++)
		h = (h ^ s->data[i]) * 0x100000001b3ULL;
	snprintf(buf, len, "const:%.*s:%" PRIx64 ":%" PRIu64 "%+" PRId64,
		 (int)(strrchr(name, '.') - name), name, h, (uint64_t)s->sh.sh_size, addend);
}

/* What a relocation points to, independent of layout. */
static void rel_identity(const struct obj *o, const struct orel *r, char *buf, size_t len)
{
	const struct osym *s = &o->sym[r->sym];

	if (s->shndx != SHN_UNDEF && s->shndx < o->nsec && numbered_local_const(o, s->shndx)) {
		const_identity(o, s->shndx, r->addend + (int64_t)s->value, buf, len);
		return;
	}
	if (s->type == STT_SECTION && s->shndx < o->nsec) {
		const struct osec *t = &o->sec[s->shndx];

		if (t->sh.sh_flags & SHF_MERGE)
			merged_identity(t, r, buf, len);
		else if (t->owner >= 0)
			snprintf(buf, len, "sym:%s%+" PRId64, o->sym[t->owner].name, r->addend);
		else
			snprintf(buf, len, "sec:%s%+" PRId64, t->name, r->addend);
		return;
	}
	/* gas keeps local labels (.LC0) for references into merged sections;
	 * their numbering shifts whenever an earlier literal is added, so the
	 * text they label is what counts. */
	if (s->bind == STB_LOCAL && s->shndx != SHN_UNDEF && s->shndx < o->nsec &&
	    (o->sec[s->shndx].sh.sh_flags & SHF_MERGE)) {
		struct orel at = *r;

		at.addend += (int64_t)s->value;
		merged_identity(&o->sec[s->shndx], &at, buf, len);
		return;
	}
	snprintf(buf, len, "%s:%s%+" PRId64, s->shndx == SHN_UNDEF ? "ext" : "sym", s->name,
		 r->addend);
}

/* The writable function-local static (count.3) a relocation reaches, or
 * NULL: GCC's numbering of those shifts when a fix adds one. */
static const char *numbered_local_var(const struct obj *o, const struct orel *r)
{
	const struct osym *t = &o->sym[r->sym];
	const struct osec *s;
	const char *name, *dot;

	if (t->shndx == SHN_UNDEF || t->shndx >= o->nsec)
		return NULL;
	s = &o->sec[t->shndx];
	if (s->owner < 0 || !(s->sh.sh_flags & SHF_WRITE) || strncmp(s->name, ".data.rel.ro", 12) == 0)
		return NULL;
	name = o->sym[s->owner].name;
	if (o->sym[s->owner].bind != STB_LOCAL || o->sym[s->owner].type != STT_OBJECT)
		return NULL;
	dot = strrchr(name, '.');
	return dot && dot[1] && strspn(dot + 1, "0123456789") == strlen(dot + 1) ? name : NULL;
}

/* Does code section @s use a numbered static called @base.N other than @name? */
static const char *uses_other_number(const struct obj *o, const struct osec *s, const char *name)
{
	size_t base = (size_t)(strrchr(name, '.') - name);

	for (size_t k = 0; k < s->nrel; k++) {
		const char *v = numbered_local_var(o, &s->rel[k]);

		if (v && strncmp(v, name, base + 1) == 0 && strcmp(v, name) != 0)
			return v;
	}
	return NULL;
}

/* The same function-local static on both sides, under another number: GCC
 * numbers statics of one name across the file, and the order can change when
 * nothing in this function did. It is the same one when each side's code
 * uses only that one of the name. */
static bool same_local_var(const struct obj *a, const struct osec *sa, const struct orel *ra,
			   const struct obj *b, const struct osec *sb, const struct orel *rb)
{
	const char *va = numbered_local_var(a, ra), *vb = numbered_local_var(b, rb);
	size_t base;

	if (!va || !vb || ra->addend != rb->addend)
		return false;
	base = (size_t)(strrchr(va, '.') - va);
	return strncmp(va, vb, base + 1) == 0 && !uses_other_number(a, sa, va) &&
	       !uses_other_number(b, sb, vb);
}

static bool same_relocations(const struct obj *a, const struct osec *sa, const struct obj *b,
			     const struct osec *sb)
{
	char ia[IDENT_MAX], ib[IDENT_MAX];

	if (sa->nrel != sb->nrel)
		return false;
	for (size_t i = 0; i < sa->nrel; i++) {
		if (sa->rel[i].offset != sb->rel[i].offset || sa->rel[i].type != sb->rel[i].type)
			return false;
		rel_identity(a, &sa->rel[i], ia, sizeof(ia));
		rel_identity(b, &sb->rel[i], ib, sizeof(ib));
		if (strcmp(ia, ib) != 0 &&
		    !same_local_var(a, sa, &sa->rel[i], b, sb, &sb->rel[i]))
			return false;
	}
	return true;
}

static bool same_section(const struct obj *a, const struct osec *sa, const struct obj *b,
			 const struct osec *sb)
{
	if (sa->sh.sh_size != sb->sh.sh_size || sa->sh.sh_type != sb->sh.sh_type)
		return false;
	if (sa->data && sb->data && memcmp(sa->data, sb->data, sa->sh.sh_size) != 0)
		return false;
	return same_relocations(a, sa, b, sb);
}

static int add_change(struct changes *c, enum change_kind kind, struct obj *o, size_t sec,
		      const char *why)
{
	struct change *nv = realloc(c->v, (c->n + 1) * sizeof(*nv));

	if (!nv)
		return hp_err(-ENOMEM, "out of memory");
	c->v = nv;
	nv[c->n] = (struct change){.kind = kind, .obj = o, .sec = sec, .why = strdup(why)};
	if (!nv[c->n].why)
		return hp_err(-ENOMEM, "out of memory");
	c->n++;
	return 0;
}

void changes_free(struct changes *c)
{
	for (size_t i = 0; i < c->n; i++)
		free(c->v[i].why);
	free(c->v);
	refusal_free(&c->refusal);
	*c = (struct changes){0};
}

/* Same code, relocations and all, but for line numbers the diff moved. */
static bool only_lines_moved(const struct obj *a, const struct osec *sa, const struct obj *b,
			     const struct osec *sb, const struct diff_info *diff)
{
	if (!diff || sa->sh.sh_size != sb->sh.sh_size || sa->sh.sh_type != sb->sh.sh_type ||
	    !same_relocations(a, sa, b, sb))
		return false;
	return linemove_only(sa->data, sb->data, sa->sh.sh_size, diff);
}

/* The IFUNC whose resolver code section @i holds, or NULL. */
static const char *ifunc_in(const struct obj *o, size_t i)
{
	for (size_t k = 1; k < o->nsym; k++)
		if (o->sym[k].type == STT_GNU_IFUNC && o->sym[k].shndx == i)
			return o->sym[k].name;
	return NULL;
}

/* Does code section @i hold more than one function (assembly puts several
 * in one named section: glibc's .text.evex)? */
static bool several_functions(const struct obj *o, size_t i)
{
	bool seen = false;
	uint64_t at = 0;

	for (size_t k = 1; k < o->nsym; k++) {
		const struct osym *s = &o->sym[k];

		if (s->type != STT_FUNC || s->shndx != i)
			continue;
		if (seen && s->value != at)
			return true;
		seen = true;
		at = s->value;
	}
	return false;
}

/* Refuses the change: the message for the error, and the same refusal as
 * data in @out, for a caller that blames it on a fix (build_upgrade.c). */
static int refuse(struct changes *out, enum refusal_kind kind, const char *symbol,
		  const char *source, const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static int refuse(struct changes *out, enum refusal_kind kind, const char *symbol,
		  const char *source, const char *fmt, ...)
{
	_cleanup_free_ char *msg = NULL;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&msg, fmt, ap);
	va_end(ap);
	if (n < 0)
		return hp_err(-ENOMEM, "out of memory");
	refusal_free(&out->refusal);
	if (refusal_init(&out->refusal, kind, symbol, source, msg) < 0)
		return -ENOMEM;
	return hp_err(-EINVAL, "%s", msg);
}

static int compare_code(struct obj *orig, struct obj *fixed, size_t i, struct changes *out)
{
	const struct osec *s = &fixed->sec[i];
	int j = obj_find_section(orig, s->name);
	const char *ifunc;

	if (j < 0)
		return add_change(out, CHANGE_NEW_FUNC, fixed, i, "new function");
	if (same_section(orig, &orig->sec[j], fixed, s))
		return 0;
	if (only_lines_moved(orig, &orig->sec[j], fixed, s, out->diff)) {
		out->moved++;
		return 0;
	}
	if ((ifunc = ifunc_in(fixed, i)))
		return refuse(out, REFUSAL_IFUNC, ifunc, fixed->file,
			      "%s: the fix changes the IFUNC resolver %s, which chose an "
			      "implementation when the process started; a live patch cannot "
			      "choose again",
			      fixed->file, ifunc);
	/* Code outside per-function sections cannot be told apart. */
	if ((strcmp(s->name, ".text") == 0 && s->sh.sh_size) || several_functions(fixed, i))
		return refuse(out, REFUSAL_ASM, NULL, fixed->file,
			      "%s: its code is not in per-function sections (assembly, or "
			      "-ffunction-sections overridden?), and it changed; cannot tell "
			      "which functions to replace",
			      fixed->file);
	return add_change(out, CHANGE_FUNC, fixed, i, "its code changed");
}

static int compare_data(struct obj *orig, struct obj *fixed, size_t i, struct changes *out)
{
	const struct osec *s = &fixed->sec[i];
	int j = obj_find_section(orig, s->name);
	const char *what = osec_label(fixed, i);

	if ((s->sh.sh_flags & SHF_MERGE) || numbered_local_const(fixed, i))
		return 0; /* compared through the code that uses it, by its bytes */
	if (strncmp(s->name, ".init_array", 11) == 0 || strncmp(s->name, ".fini_array", 11) == 0 ||
	    strncmp(s->name, ".ctors", 6) == 0 || strncmp(s->name, ".dtors", 6) == 0) {
		if (j < 0 || !same_section(orig, &orig->sec[j], fixed, s))
			return refuse(out, REFUSAL_CTOR, what, fixed->file,
				      "%s: the fix adds or changes a constructor or destructor, "
				      "which never runs in a live patch",
				      fixed->file);
		return 0;
	}
	if (j < 0 || same_section(orig, &orig->sec[j], fixed, s))
		return 0; /* new data joins the patch if the new code uses it */
	if (s->sh.sh_flags & SHF_TLS)
		return refuse(out, REFUSAL_TLS, what, fixed->file,
			      "the fix changes thread-local variable '%s' (%s); every thread has "
			      "its own copy, which a live patch cannot reach",
			      what, fixed->file);
	if (!is_readonly(s))
		return refuse(out, REFUSAL_DATA, what, fixed->file,
			      "the fix changes the initial value or the size of '%s' (%s); the "
			      "running process has its own copy of that data, which a live patch "
			      "does not rewrite: write a patch source that sets the new value from "
			      "the replacement function instead",
			      what, fixed->file);
	if (strncmp(what, "_ZTV", 4) == 0 || strncmp(what, "_ZTT", 4) == 0 ||
	    strncmp(what, "_ZTC", 4) == 0)
		return refuse(out, REFUSAL_LAYOUT, what, fixed->file,
			      "the fix changes the vtable '%s' (%s): a virtual function was added, "
			      "removed or reordered, and every object of the class in the running "
			      "process points to the old one; this needs a restart",
			      what, fixed->file);
	return add_change(out, CHANGE_CONST, fixed, i, "changed constant");
}

static bool uses_changed_const(const struct obj *o, const struct osec *s,
			       const struct changes *c, const char **ret_name)
{
	for (size_t r = 0; r < s->nrel; r++) {
		const struct osym *t = &o->sym[s->rel[r].sym];

		for (size_t k = 0; k < c->n; k++)
			if (c->v[k].kind == CHANGE_CONST && c->v[k].obj == o &&
			    t->shndx == c->v[k].sec) {
				*ret_name = osec_label(o, c->v[k].sec);
				return true;
			}
	}
	return false;
}

static bool already(const struct changes *c, const struct obj *o, size_t sec)
{
	for (size_t k = 0; k < c->n; k++)
		if (c->v[k].obj == o && c->v[k].sec == sec)
			return true;
	return false;
}

/* A function's own static variable is named by its number (count.3), and a
 * patch reaches the process's copy by that name. When the fix renumbers it,
 * the name means another variable of the original, or none: refuse rather
 * than let the patched code use the wrong data. */
static int check_static_numbers(const struct obj *orig, const struct obj *fixed, size_t i,
				struct changes *out)
{
	const struct osec *s = &fixed->sec[i];
	int j = obj_find_section(orig, s->name);

	if (j < 0)
		return 0;
	for (size_t k = 0; k < s->nrel; k++) {
		const char *v = numbered_local_var(fixed, &s->rel[k]);
		const char *was = v ? uses_other_number(orig, &orig->sec[j], v) : NULL;

		if (was)
			return refuse(out, REFUSAL_RENUMBERED, v, fixed->file,
				      "the fix renumbers static variable '%s' of %s (%s; it was "
				      "'%s'): by that name the patch would use another variable, or a "
				      "new one, instead of the process's; write a patch source that "
				      "names it",
				      v, osec_label(fixed, i), fixed->file, was);
	}
	return 0;
}

int objdiff_pair(struct obj *orig, struct obj *fixed, struct changes *out)
{
	size_t first = out->n;
	int r = 0;

	for (size_t i = 1; r == 0 && i < fixed->nsec; i++) {
		const struct osec *s = &fixed->sec[i];

		if (osec_is_code(s)) {
			size_t had = out->n;

			r = compare_code(orig, fixed, i, out);
			/* only code the patch carries reaches statics by name */
			if (r == 0 && out->n > had)
				r = check_static_numbers(orig, fixed, i, out);
		} else if (osec_is_data(s))
			r = compare_data(orig, fixed, i, out);
	}
	/* Unchanged code that reads a changed constant behaves differently. */
	for (size_t i = 1; r == 0 && i < fixed->nsec; i++) {
		const char *name;
		char why[256];

		if (!osec_is_code(&fixed->sec[i]) || already(out, fixed, i) || first == out->n ||
		    !uses_changed_const(fixed, &fixed->sec[i], out, &name))
			continue;
		snprintf(why, sizeof(why), "it uses the changed constant %s", name);
		r = add_change(out, CHANGE_FUNC, fixed, i, why);
	}
	return r;
}
