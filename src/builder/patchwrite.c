/* SPDX-License-Identifier: MIT */
#include "patchwrite.h"

#include <elf.h>
#include <fcntl.h>
#include <gelf.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "error.h"
#include "macro.h"
#include "patchpick.h"
#include "symtab.h"

static int put_strings(struct buf *b, const char *const *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		buf_put(b, v[i], strlen(v[i]) + 1);
	return b->oom ? -ENOMEM : 0;
}

/* The undefined symbol standing for a target symbol; statics get an alias. */
/* @name of the target (@file: of its static in that source file, or NULL). */
static ssize_t external_name(struct pw *w, const char *name, const char *file, bool weak)
{
	bool local = file != NULL;
	struct ext *nv;
	char alias[600];

	for (size_t i = 0; i < w->next; i++)
		if (strcmp(w->ext[i].name, name) == 0 &&
		    (!file == !w->ext[i].file && (!file || strcmp(file, w->ext[i].file) == 0)))
			return (ssize_t)i;
	nv = realloc(w->ext, (w->next + 1) * sizeof(*nv));
	if (!nv)
		return -ENOMEM;
	w->ext = nv;
	snprintf(alias, sizeof(alias), "__hp_local%zu.%s", w->next, name);
	nv[w->next] = (struct ext){.out = strdup(local ? alias : name), .name = strdup(name),
				   .file = file ? strdup(file) : NULL, .weak = weak};
	if (!nv[w->next].out || !nv[w->next].name || (file && !nv[w->next].file))
		return -ENOMEM;
	if (local && put_strings(&w->import, (const char *const[]){alias, name, file}, 3) < 0)
		return -ENOMEM;
	return (ssize_t)w->next++;
}

static ssize_t external(struct pw *w, const struct obj *o, const struct osym *s)
{
	bool local = s->bind == STB_LOCAL && s->shndx != SHN_UNDEF;

	return external_name(w, s->name, local ? o->file : NULL, s->bind == STB_WEAK);
}

/* The symbol a relocation to a non-included place means: the section's
 * owner when it points at a section symbol. */
static const struct osym *named_target(const struct obj *o, const struct orel *r)
{
	const struct osym *t = &o->sym[r->sym];

	if (t->type == STT_SECTION && t->shndx < o->nsec && o->sec[t->shndx].owner >= 0)
		return &o->sym[o->sec[t->shndx].owner];
	return t;
}

enum rtarget { R_INTERNAL, R_EXTERNAL, R_TEXTREL };

struct rout {
	uint32_t type;
	size_t sym; /* local index, or external index */
	int64_t addend;
	enum rtarget kind;
};

static int check_type(const struct obj *o, const struct orel *r, const char *what)
{
	switch (r->type) {
	case R_X86_64_32:
	case R_X86_64_32S:
		return hp_err(-EINVAL, "%s uses absolute 32-bit addresses (%s was built without "
				       "-fPIE/-fPIC); a live patch needs position-independent code: "
				       "rebuild the target as PIE or write a patch source",
			      what, o->file);
	case R_X86_64_TPOFF32:
	case R_X86_64_TPOFF64:
	case R_X86_64_DTPOFF32:
	case R_X86_64_DTPOFF64:
	case R_X86_64_TLSGD:
	case R_X86_64_TLSLD:
	case R_X86_64_GOTTPOFF: /* unless the target's (tls_reference) */
		return hp_err(-EINVAL, "%s uses thread-local storage%s, which a live patch cannot "
				       "reach",
			      what, r->type == R_X86_64_GOTTPOFF ? " of its own" : "");
	default:
		return 0;
	}
}

/*
 * A thread-local variable of the target (errno, in libc), reached the way
 * the target's own code reaches it with the initial-exec model: by loading
 * its offset from the thread pointer out of the target's GOT slot for it,
 * which the dynamic loader filled when the process started. The
 * instruction's RIP-relative field then points at that slot, like any
 * PC-relative reference to the target (the loader writes it; patchlink.c
 * finds the slot).
 */
static int tls_reference(struct pw *w, struct incl *in, const struct orel *r, struct rout *out)
{
	struct obj *o = in->obj;
	const struct osym *t = named_target(o, r);
	bool local = t->bind == STB_LOCAL && t->shndx != SHN_UNDEF;
	char name[600];
	ssize_t e;

	snprintf(name, sizeof(name), "%s%s", HP_TLS_SLOT_PREFIX, t->name);
	e = external_name(w, name, local ? o->file : NULL, false);
	if (e < 0)
		return hp_err(-ENOMEM, "out of memory");
	*out = (struct rout){.type = R_X86_64_PC32, .addend = r->addend, .sym = (size_t)e,
			     .kind = R_TEXTREL};
	return 0;
}

static int map_relocation(struct pw *w, struct incl *in, const struct orel *r, struct rout *out)
{
	struct obj *o = in->obj;
	const struct osym *t = &o->sym[r->sym];
	struct incl *ti = t->shndx < o->nsec ? pick_included(w, o, t->shndx) : NULL;
	const char *what = osec_label(o, in->sec);
	ssize_t e;
	int rr;

	if (r->type == R_X86_64_GOTTPOFF && !ti)
		return tls_reference(w, in, r, out);
	rr = check_type(o, r, what);
	if (rr < 0)
		return rr;
	*out = (struct rout){.type = r->type, .addend = r->addend};
	if (ti && t->type == STT_SECTION) {
		out->kind = R_INTERNAL;
		out->sym = ti->secsym;
		return 0;
	}
	if (ti) {
		out->kind = R_INTERNAL;
		out->sym = w->symmap[w->symbase[o - w->objs] + r->sym] - 1;
		return 0;
	}
	if (t->type == STT_SECTION && (t->shndx >= o->nsec || o->sec[t->shndx].owner < 0))
		return hp_err(-EINVAL, "%s refers to unnamed data in %s (%s) that stays in the "
				       "target; cannot tell which data that is",
			      what, t->shndx < o->nsec ? o->sec[t->shndx].name : "?", o->file);
	e = external(w, o, named_target(o, r));
	if (e < 0)
		return hp_err(-ENOMEM, "out of memory");
	out->sym = (size_t)e;
	out->kind = r->type == R_X86_64_PC32 || r->type == R_X86_64_PC64 ? R_TEXTREL : R_EXTERNAL;
	if (out->kind == R_TEXTREL && !osec_is_code(&o->sec[in->sec]))
		return hp_err(-EINVAL, "data in %s (%s) holds a relative pointer into the target; "
				       "not supported",
			      what, o->file);
	return 0;
}

/* A PC-relative reference to the target: point it at a placeholder (the
 * section itself), label the site, and record it for the loader. */
static int textrel_site(struct pw *w, struct incl *in, const struct orel *r, struct rout *out)
{
	char label[64], type[16], addend[32];

	snprintf(label, sizeof(label), "__hp_site.%zu", w->sites++);
	snprintf(type, sizeof(type), "%u", out->type); /* GOTTPOFF became PC32 */
	snprintf(addend, sizeof(addend), "%" PRId64, r->addend);
	if (pick_add_local(w, label, in->out, r->offset, 0, STT_NOTYPE) < 0 ||
	    put_strings(&w->textrel,
			(const char *const[]){label, w->ext[out->sym].out, type, addend}, 4) < 0)
		return -ENOMEM;
	out->kind = R_INTERNAL;
	out->sym = in->secsym;
	out->addend = 0;
	w->res->textrels++;
	return 0;
}

/* Every relocation of every included section, mapped; text relocations get
 * their sites labelled. */
static int map_all(struct pw *w, struct rout **ret)
{
	for (size_t i = 0; i < w->ninc; i++) {
		struct incl *in = &w->inc[i];
		const struct osec *s = &in->obj->sec[in->sec];

		ret[i] = calloc(s->nrel ? s->nrel : 1, sizeof(**ret));
		if (!ret[i])
			return hp_err(-ENOMEM, "out of memory");
		for (size_t k = 0; k < s->nrel; k++) {
			int r = map_relocation(w, in, &s->rel[k], &ret[i][k]);

			if (r == 0 && ret[i][k].kind == R_TEXTREL)
				r = textrel_site(w, in, &s->rel[k], &ret[i][k]);
			if (r < 0)
				return r == -ENOMEM ? hp_err(r, "out of memory") : r;
		}
	}
	return 0;
}

static size_t strtab_add(struct buf *b, const char *s)
{
	size_t off = b->len;

	buf_put(b, s, strlen(s) + 1);
	return off;
}

static Elf_Scn *new_section(Elf *e, struct buf *shstr, const char *name, uint32_t type,
			    uint64_t flags, const void *data, size_t size, uint64_t align)
{
	Elf_Scn *scn = elf_newscn(e);
	GElf_Shdr sh;
	Elf_Data *d;

	if (!scn || !(d = elf_newdata(scn)) || !gelf_getshdr(scn, &sh))
		return NULL;
	d->d_buf = (void *)data;
	d->d_size = size;
	d->d_type = ELF_T_BYTE;
	d->d_align = align ? align : 1;
	sh.sh_name = (uint32_t)strtab_add(shstr, name);
	sh.sh_type = type;
	sh.sh_flags = flags;
	sh.sh_addralign = align ? align : 1;
	return gelf_update_shdr(scn, &sh) ? scn : NULL;
}

struct image {
	Elf *e;
	struct buf shstr, strtab, syms, *relas;
	size_t symtab_index;
};

static void put_sym(struct image *im, const char *name, size_t shndx, uint64_t value,
		    uint64_t size, unsigned char type, unsigned char bind)
{
	Elf64_Sym s = {.st_name = (uint32_t)(name && *name ? strtab_add(&im->strtab, name) : 0),
		       .st_info = (unsigned char)ELF64_ST_INFO(bind, type),
		       .st_shndx = (uint16_t)shndx, .st_value = value, .st_size = size};

	buf_put(&im->syms, &s, sizeof(s));
}

/* Locals first (the ELF rule), then the undefined symbols of the target. */
static void build_symtab(const struct pw *w, struct image *im)
{
	buf_put(&im->strtab, "", 1);
	put_sym(im, NULL, 0, 0, 0, STT_NOTYPE, STB_LOCAL);
	for (size_t i = 0; i < w->nloc; i++)
		put_sym(im, w->loc[i].name, w->loc[i].shndx, w->loc[i].value, w->loc[i].size,
			w->loc[i].type, STB_LOCAL);
	for (size_t i = 0; i < w->next; i++)
		put_sym(im, w->ext[i].out, SHN_UNDEF, 0, 0, STT_NOTYPE,
			w->ext[i].weak ? STB_WEAK : STB_GLOBAL);
}

static size_t out_symbol(const struct pw *w, const struct rout *r)
{
	return r->kind == R_EXTERNAL ? 1 + w->nloc + r->sym : 1 + r->sym;
}

static void build_relas(const struct pw *w, struct rout **routs, struct image *im)
{
	for (size_t i = 0; i < w->ninc; i++) {
		const struct osec *s = &w->inc[i].obj->sec[w->inc[i].sec];

		for (size_t k = 0; k < s->nrel; k++) {
			Elf64_Rela r = {.r_offset = s->rel[k].offset,
					.r_info = ELF64_R_INFO(out_symbol(w, &routs[i][k]),
							       routs[i][k].type),
					.r_addend = routs[i][k].addend};

			buf_put(&im->relas[i], &r, sizeof(r));
		}
	}
}

static int emit_sections(const struct pw *w, struct image *im, const struct buf *meta, size_t nmeta,
			 const char *const *meta_names)
{
	char name[600];

	for (size_t i = 0; i < w->ninc; i++) {
		const struct osec *s = &w->inc[i].obj->sec[w->inc[i].sec];

		/* NOBITS data has a size and no bytes. A section of a COMDAT
		 * group (a C++ inline function, template instance, vtable) is
		 * carried out of its group: its symbols are the patch's own
		 * locals, so there is no other copy for the linker to merge. */
		if (!new_section(im->e, &im->shstr, s->name, s->sh.sh_type,
				 s->sh.sh_flags & ~(uint64_t)SHF_GROUP, s->data,
				 s->sh.sh_size, s->sh.sh_addralign))
			return -EIO;
		if (s->sh.sh_flags & SHF_MERGE) {
			GElf_Shdr sh;
			Elf_Scn *scn = elf_getscn(im->e, i + 1);

			gelf_getshdr(scn, &sh);
			sh.sh_entsize = s->sh.sh_entsize;
			gelf_update_shdr(scn, &sh);
		}
	}
	im->symtab_index = w->ninc + 1;
	if (!new_section(im->e, &im->shstr, ".symtab", SHT_SYMTAB, 0, im->syms.data, im->syms.len, 8) ||
	    !new_section(im->e, &im->shstr, ".strtab", SHT_STRTAB, 0, im->strtab.data,
			 im->strtab.len, 1))
		return -EIO;
	for (size_t i = 0; i < w->ninc; i++) {
		snprintf(name, sizeof(name), ".rela%s", w->inc[i].obj->sec[w->inc[i].sec].name);
		if (!im->relas[i].len)
			continue;
		if (!new_section(im->e, &im->shstr, name, SHT_RELA, SHF_INFO_LINK, im->relas[i].data,
				 im->relas[i].len, 8))
			return -EIO;
	}
	for (size_t i = 0; i < nmeta; i++)
		if (meta[i].len && !new_section(im->e, &im->shstr, meta_names[i], SHT_PROGBITS, 0,
						meta[i].data, meta[i].len, 1))
			return -EIO;
	return new_section(im->e, &im->shstr, ".note.GNU-stack", SHT_PROGBITS, 0, NULL, 0, 1) ? 0
												 : -EIO;
}

/* Links: symtab to strtab, relas to symtab and their section. */
static void link_sections(const struct pw *w, struct image *im)
{
	size_t n, shstrndx = 0;
	Elf_Scn *scn = NULL;
	size_t rela = 0;

	(void)shstrndx;
	elf_getshdrnum(im->e, &n);
	for (size_t i = 1; i < n; i++) {
		GElf_Shdr sh;

		scn = elf_getscn(im->e, i);
		gelf_getshdr(scn, &sh);
		if (sh.sh_type == SHT_SYMTAB) {
			sh.sh_link = (uint32_t)(im->symtab_index + 1);
			sh.sh_info = (uint32_t)(1 + w->nloc);
			sh.sh_entsize = sizeof(Elf64_Sym);
		} else if (sh.sh_type == SHT_RELA) {
			while (rela < w->ninc && !im->relas[rela].len)
				rela++;
			sh.sh_link = (uint32_t)im->symtab_index;
			sh.sh_info = (uint32_t)(rela + 1);
			sh.sh_entsize = sizeof(Elf64_Rela);
			rela++;
		}
		gelf_update_shdr(scn, &sh);
	}
}

static int write_elf(const char *path, const struct pw *w, struct rout **routs,
		     const struct buf *meta, size_t nmeta, const char *const *meta_names)
{
	struct image im = {0};
	GElf_Ehdr eh;
	int fd, r = -EIO;

	im.relas = calloc(w->ninc ? w->ninc : 1, sizeof(*im.relas));
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (!im.relas || fd < 0)
		goto out;
	im.e = elf_begin(fd, ELF_C_WRITE, NULL);
	if (!im.e || !gelf_newehdr(im.e, ELFCLASS64) || !gelf_getehdr(im.e, &eh))
		goto out;
	eh.e_ident[EI_DATA] = ELFDATA2LSB;
	eh.e_type = ET_REL;
	eh.e_machine = EM_X86_64;
	eh.e_version = EV_CURRENT;
	gelf_update_ehdr(im.e, &eh);
	buf_put(&im.shstr, "", 1);
	build_symtab(w, &im);
	build_relas(w, routs, &im);
	if (emit_sections(w, &im, meta, nmeta, meta_names) < 0)
		goto out;
	link_sections(w, &im);
	{
		Elf_Scn *scn = new_section(im.e, &im.shstr, ".shstrtab", SHT_STRTAB, 0, NULL, 0, 1);
		Elf_Data *d = scn ? elf_getdata(scn, NULL) : NULL;

		if (!d)
			goto out;
		d->d_buf = im.shstr.data;
		d->d_size = im.shstr.len;
		gelf_getehdr(im.e, &eh);
		eh.e_shstrndx = (uint16_t)elf_ndxscn(scn);
		gelf_update_ehdr(im.e, &eh);
	}
	if (im.shstr.oom || im.strtab.oom || im.syms.oom || elf_update(im.e, ELF_C_WRITE) < 0)
		goto out;
	r = 0;
out:
	if (r < 0)
		r = hp_err(-EIO, "cannot write %s: %s", path, elf_errmsg(-1));
	if (im.e)
		elf_end(im.e);
	if (fd >= 0)
		close(fd);
	for (size_t i = 0; im.relas && i < w->ninc; i++)
		buf_free(&im.relas[i]);
	free(im.relas);
	buf_free(&im.shstr);
	buf_free(&im.strtab);
	buf_free(&im.syms);
	return r;
}

/* .hotpatch.replace entries, and what --explain says about each function. */
static int describe(struct pw *w)
{
	for (size_t i = 0; i < w->ninc; i++) {
		const struct incl *in = &w->inc[i];
		const struct change *ch = pick_change_of(w, in->obj, in->sec);
		int owner = in->obj->sec[in->sec].owner;
		const char *name, *file;
		size_t outname;

		if (owner < 0 || !osec_is_code(&in->obj->sec[in->sec]))
			continue;
		name = in->obj->sym[owner].name;
		file = in->obj->sym[owner].bind == STB_LOCAL ? in->obj->file : "";
		outname = w->symmap[w->symbase[in->obj - w->objs] + (size_t)owner] - 1;
		if (in->replace) {
			if (put_strings(&w->replace,
					(const char *const[]){name, file, w->loc[outname].name},
					3) < 0)
				return -ENOMEM;
			w->res->replaced++;
			buf_printf(&w->res->explain, "  replaced  %s (%s): %s\n", name, in->obj->file,
				   ch ? ch->why : "changed");
			if (strcmp(name, "main") == 0)
				buf_printf(&w->res->explain,
					   "  warning: main() is replaced; if it never returns (a "
					   "server loop), the patch can never apply: mark the "
					   "function it inlines noinline, or write a patch source\n");
		} else {
			w->res->helpers += ch && ch->kind == CHANGE_FUNC;
			buf_printf(&w->res->explain, "  included  %s (%s): %s\n", name, in->obj->file,
				   ch ? ch->why : pick_is_cold(name) ? "the cold part of a replaced function"
							: "used by replaced code");
		}
	}
	for (size_t i = 0; i < w->c->n; i++) {
		const struct change *ch = &w->c->v[i];

		int owner = ch->obj->sec[ch->sec].owner;

		if (ch->kind != CHANGE_FUNC || pick_included(w, ch->obj, ch->sec))
			continue;
		if (owner >= 0 && pick_copy_included(w, ch->obj, owner)) {
			buf_printf(&w->res->explain,
				   "  merged    %s (%s): the same inline function as the one "
				   "carried (the linker kept one copy)\n",
				   osec_label(ch->obj, ch->sec), ch->obj->file);
			continue;
		}
		w->res->dropped++;
		buf_printf(&w->res->explain, "  skipped   %s (%s): changed, but not in this file\n",
			   osec_label(ch->obj, ch->sec), ch->obj->file);
	}
	return w->res->explain.oom ? -ENOMEM : 0;
}

static void pw_free(struct pw *w)
{
	for (size_t i = 0; i < w->next; i++) {
		free(w->ext[i].out);
		free(w->ext[i].name);
		free(w->ext[i].file);
	}
	free(w->ext);
	for (size_t i = 0; i < w->nloc; i++)
		free(w->loc[i].name);
	free(w->loc);
	free(w->inc);
	free(w->symmap);
	free(w->symbase);
	buf_free(&w->replace);
	buf_free(&w->import);
	buf_free(&w->textrel);
}

static int prepare_maps(struct pw *w)
{
	size_t total = 0;

	w->symbase = calloc(w->nobjs ? w->nobjs : 1, sizeof(*w->symbase));
	if (!w->symbase)
		return -ENOMEM;
	for (size_t i = 0; i < w->nobjs; i++) {
		w->symbase[i] = total;
		total += w->objs[i].nsym;
	}
	w->symmap = calloc(total ? total : 1, sizeof(*w->symmap));
	return w->symmap ? 0 : -ENOMEM;
}

int patchwrite(const char *path, const struct changes *c, struct obj *objs, struct obj *origs,
	       size_t nobjs, const struct symtab *target, const char *description,
	       char *const *cves, size_t ncves, struct patchwrite_result *ret)
{
	struct pw w = {.c = c, .objs = objs, .origs = origs, .nobjs = nobjs, .target = target,
		       .res = ret};
	struct rout **routs = NULL;
	struct buf meta[5] = {0};
	const char *const meta_names[] = {".hotpatch.replace", ".hotpatch.import",
					  ".hotpatch.textrel", ".hotpatch.desc", ".hotpatch.cve"};
	int r;

	*ret = (struct patchwrite_result){0};
	r = prepare_maps(&w);
	if (r == 0)
		r = pick_select(&w);
	if (r == 0) {
		routs = calloc(w.ninc, sizeof(*routs));
		r = routs ? map_all(&w, routs) : hp_err(-ENOMEM, "out of memory");
	}
	if (r == 0)
		r = describe(&w) < 0 ? hp_err(-ENOMEM, "out of memory") : 0;
	if (r == 0) {
		meta[0] = w.replace;
		meta[1] = w.import;
		meta[2] = w.textrel;
		if (description)
			buf_put(&meta[3], description, strlen(description) + 1);
		put_strings(&meta[4], (const char *const *)cves, ncves);
		r = write_elf(path, &w, routs, meta, ARRAY_SIZE(meta), meta_names);
		buf_free(&meta[3]);
		buf_free(&meta[4]);
		w.replace = meta[0];
		w.import = meta[1];
		w.textrel = meta[2];
	}
	for (size_t i = 0; routs && i < w.ninc; i++)
		free(routs[i]);
	free(routs);
	pw_free(&w);
	return r;
}
