/* SPDX-License-Identifier: MIT */
/*
 * From relocatable objects to a bundle: the phases both ways of building a
 * patch share (patch sources, build_source.c; a source diff, build_diff.c).
 * Each phase, and what holds after it:
 *   begin        -> the target's build-id, type and symbols are known; a
 *                   scratch directory exists
 *   (the caller adds relocatable objects: compiled sources, or patch.o)
 *   record       -> a record big enough for every replacement exists
 *   link         -> tmp/patch.hpo is a shared object with .hotpatch.*
 *   check        -> no TLS, constructors, text relocations
 *   functions    -> each replaced function is found in the target, long
 *                   enough for the jump, with its bytes recorded
 *   symbols      -> each undefined symbol is either a target symbol at a known
 *                   address or an external one with a version
 *   bundle       -> written, with the fixed file when there is one
 */
#include "patchlink.h"

#include <elf.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "branchcheck.h"
#include "regcheck.h"
#include "thunk.h"
#include "cxxname.h"
#include "bundle.h"
#include "elffile.h"
#include "error.h"
#include "macro.h"
#include "manifest.h"
#include "patchobj.h"
#include "patchwrite.h"
#include "record.h"
#include "runcmd.h"
#include "symtab.h"
#include "progress.h"

/* How far after a function its alignment filler is looked for. */
#define PADDING_MAX 64

const char *build_compiler(const struct build_common *o)
{
	const char *cc = o->cc ? o->cc : getenv("CC");

	return cc && *cc ? cc : "cc";
}

const char *build_include_dir(void)
{
	const char *env = getenv("HOTPATCH_INCLUDEDIR");
	static const char *dirs[] = {HP_SOURCE_INCLUDEDIR, HP_INSTALLED_INCLUDEDIR};
	char probe[PATH_MAX];

	if (env && *env)
		return env;
	for (size_t i = 0; i < ARRAY_SIZE(dirs); i++) {
		snprintf(probe, sizeof(probe), "%s/hotpatch/patch.h", dirs[i]);
		if (access(probe, R_OK) == 0)
			return dirs[i];
	}
	return HP_INSTALLED_INCLUDEDIR;
}

static int open_target(struct build *b)
{
	uint8_t id[HP_BUILD_ID_MAX];
	size_t idlen;
	int r;

	r = elf_file_open(b->o->target, &b->target);
	if (r < 0)
		return r;
	r = elf_file_build_id(b->target, id, &idlen);
	if (r < 0)
		return r;
	memcpy(b->man.build_id, id, idlen);
	b->man.build_id_len = idlen;
	b->man.target_type = elf_file_ehdr(b->target)->e_type;
	if (b->man.target_type != ET_EXEC && b->man.target_type != ET_DYN)
		return hp_err(-EINVAL, "%s is neither an executable nor a shared library",
			      b->o->target);
	b->man.target_path = b->o->target_path ? strdup(b->o->target_path)
					       : realpath(b->o->target, NULL);
	if (!b->man.target_path)
		return hp_err(-errno, "cannot resolve %s: %m", b->o->target);
	if (b->o->debuginfo_is_twin)
		return symtab_load_twin(b->o->debuginfo, &b->syms);
	return symtab_load(b->target, b->o->debuginfo, NULL, &b->syms);
}

int build_add_obj(struct build *b, const char *path)
{
	char **nv = realloc(b->objs, (b->nobjs + 1) * sizeof(*nv));

	if (!nv)
		return hp_err(-ENOMEM, "out of memory");
	b->objs = nv;
	b->objs[b->nobjs] = strdup(path);
	if (!b->objs[b->nobjs])
		return hp_err(-ENOMEM, "out of memory");
	b->nobjs++;
	return 0;
}

int build_compile(struct build *b, const char *src, const char *out)
{
	const char *argv[64 + 16];
	size_t n = 0;

	argv[n++] = build_compiler(b->o);
	argv[n++] = "-c";
	argv[n++] = "-fPIC";
	argv[n++] = "-O2";
	argv[n++] = "-g";
	argv[n++] = "-fno-common";
	argv[n++] = "-fvisibility=hidden";
	argv[n++] = "-fcf-protection=full";
	argv[n++] = "-I";
	argv[n++] = build_include_dir();
	for (size_t i = 0; i < b->o->ncflags && n < 64 + 8; i++)
		argv[n++] = b->o->cflags[i];
	argv[n++] = "-o";
	argv[n++] = out;
	argv[n++] = src;
	argv[n] = NULL;
	return runcmd((char *const *)argv, NULL);
}

static int count_replaces(struct build *b, size_t *ret)
{
	size_t total = 0;

	for (size_t i = 0; i < b->nobjs; i++) {
		struct elf_file *ef;
		const uint8_t *p;
		size_t size;
		int r;

		r = elf_file_open(b->objs[i], &ef);
		if (r < 0)
			return r;
		r = elf_file_section(ef, ".hotpatch.replace", NULL, &p, &size);
		for (size_t j = 0; r == 0 && j < size; j++)
			total += p[j] == '\0';
		elf_file_close(ef);
	}
	*ret = total / 3;
	return 0;
}

/* The record lives in RELRO data, next to the GOT that is written per process
 * anyway, so it costs no page of its own. */
static int make_record(struct build *b)
{
	char src[PATH_MAX + 32], out[PATH_MAX + 32];
	size_t n;
	FILE *f;
	int r;

	r = count_replaces(b, &n);
	if (r < 0)
		return r;
	if (n == 0)
		return hp_err(-EINVAL, "the patch replaces no function: add "
				       "HOTPATCH_REPLACE(old, new) to the patch source");
	snprintf(src, sizeof(src), "%s/record.c", b->tmp);
	f = fopen(src, "we");
	if (!f)
		return hp_err(-errno, "cannot create %s: %m", src);
	fprintf(f,
		"__attribute__((used, aligned(8), visibility(\"default\"), "
		"section(\".data.rel.ro.hotpatch_record\")))\n"
		"unsigned char __hotpatch_record[%zu];\n",
		record_size(n));
	fclose(f);
	snprintf(out, sizeof(out), "%s/record.o", b->tmp);
	r = build_compile(b, src, out);
	return r < 0 ? r : build_add_obj(b, out);
}

static int link_object(struct build *b)
{
	const char *argv[64 + 4096];
	size_t n = 0;
	int r;

	snprintf(b->hpo, sizeof(b->hpo), "%s/patch.hpo", b->tmp);
	argv[n++] = build_compiler(b->o);
	argv[n++] = "-shared";
	argv[n++] = "-nostartfiles";
	argv[n++] = "-Wl,-z,now";
	argv[n++] = "-Wl,-z,relro";
	argv[n++] = "-Wl,-z,noexecstack";
	argv[n++] = "-Wl,--build-id=sha1";
	argv[n++] = "-Wl,--hash-style=gnu";
	argv[n++] = "-o";
	argv[n++] = b->hpo;
	for (size_t i = 0; i < b->nobjs && n < ARRAY_SIZE(argv) - 1; i++)
		argv[n++] = b->objs[i];
	argv[n] = NULL;
	r = runcmd((char *const *)argv, NULL);
	if (r < 0)
		return hp_err_prefix(r, "linking the patch object: ");
	return elf_file_open(b->hpo, &b->obj);
}

static int find_patch_symbol(struct build *b, const char *name, unsigned char type,
			     uint64_t *ret_value, uint64_t *ret_size)
{
	struct symtab objsyms = {0};
	const struct symtab_entry *e;
	int r;

	r = symtab_load(b->obj, NULL, NULL, &objsyms);
	if (r < 0)
		return r;
	r = symtab_lookup(&objsyms, name, NULL, &e);
	if (r == 0 && e->type != type)
		r = hp_err(-EINVAL, "'%s' in the patch is not a %s", name,
			   type == STT_FUNC ? "function" : "variable");
	if (r == 0) {
		*ret_value = e->value;
		*ret_size = e->size;
	}
	symtab_free(&objsyms);
	return r;
}

/* Where the next symbol after @e starts (its section's alignment filler
 * ends there at the latest), or 0 if none does within @max bytes. */
static uint64_t next_symbol(const struct symtab *st, const struct symtab_entry *e, uint64_t max)
{
	uint64_t end = e->value + e->size, next = 0;

	for (size_t i = 0; i < st->n; i++) {
		uint64_t v = st->v[i].value;

		if (v >= end && v <= end + max && (!next || v < next))
			next = v;
	}
	return next;
}

/* A function shorter than the jump: the jump covers the alignment filler
 * after it too, when that is filler up to the next symbol (branchcheck.h).
 * The filler's bytes become part of what is checked and restored. */
static int cover_padding(struct build *b, const struct symtab_entry *e, struct manifest_func *f)
{
	uint64_t need = f->patch_off + JUMP_SIZE - e->size, end = e->value + e->size;
	uint64_t next = next_symbol(&b->syms, e, PADDING_MAX);
	uint8_t pad[PADDING_MAX], *nv;

	if (next && next - end >= need &&
	    elf_file_read_vaddr(b->target, end, pad, next - end) == 0 &&
	    branchcheck_padding(pad, next - end, end, need) == 0) {
		nv = realloc(f->expected, e->size + need);
		if (!nv)
			return hp_err(-ENOMEM, "out of memory");
		f->expected = nv;
		memcpy(f->expected + e->size, pad, need);
		f->size = e->size + need;
		return 0;
	}
	hp_err_clear();
	return hp_err(-EINVAL,
		   "%s is only %llu bytes long, shorter than the %d-byte jump that redirects it, "
		   "and no alignment filler follows it that the jump could cover; patch its "
		   "callers instead",
		   f->name, (unsigned long long)e->size, JUMP_SIZE + (int)f->patch_off);
}

static int resolve_func(struct build *b, const struct patch_replace *rep,
			struct manifest_func *f)
{
	const struct symtab_entry *e;
	uint64_t new_size;
	int r;

	r = symtab_lookup(&b->syms, rep->old, rep->file, &e);
	/* HOTPATCH_REPLACE_CXX("Square::area() const", ...) */
	if (r == -ENOENT && strpbrk(rep->old, ":(<~ ")) {
		hp_err_clear();
		r = cxxname_lookup(&b->syms, rep->old, rep->file, &e);
	}
	if (r < 0)
		return hp_err_prefix(r, "HOTPATCH_REPLACE(%s): ", rep->old);
	if (e->type != STT_FUNC)
		return hp_err(-EINVAL, "HOTPATCH_REPLACE(%s): '%s' is not a function in the target",
			      rep->old, rep->old);
	if (e->size > MANIFEST_MAX_FUNC_SIZE)
		return hp_err(-EFBIG, "%s is too large (%llu bytes) to be checked byte by byte",
			      rep->old, (unsigned long long)e->size);
	f->name = strdup(e->name); /* the symbol: a C++ name as written is not one */
	f->file = strdup(e->file && rep->file[0] ? e->file : rep->file);
	f->new_name = strdup(rep->new);
	f->vaddr = e->value;
	f->size = e->size;
	f->expected = malloc(e->size ? e->size : 1);
	if (!f->name || !f->file || !f->new_name || !f->expected)
		return hp_err(-ENOMEM, "out of memory");
	r = elf_file_read_vaddr(b->target, e->value, f->expected, e->size);
	if (r < 0)
		return r;
	f->patch_off = e->size >= ENDBR64_SIZE && memcmp(f->expected, "\xf3\x0f\x1e\xfa", 4) == 0
			       ? ENDBR64_SIZE
			       : 0;
	if (e->size < f->patch_off + JUMP_SIZE) {
		r = cover_padding(b, e, f);
		if (r < 0)
			return r;
	}
	r = branchcheck_window(rep->old, f->expected, f->size, f->vaddr, f->patch_off);
	if (r < 0)
		return r;
	return find_patch_symbol(b, rep->new, STT_FUNC, &f->new_vaddr, &new_size);
}

static int resolve_funcs(struct build *b)
{
	b->man.funcs = calloc(b->meta.nrep, sizeof(*b->man.funcs));
	if (!b->man.funcs)
		return hp_err(-ENOMEM, "out of memory");
	for (size_t i = 0; i < b->meta.nrep; i++) {
		int r;

		for (size_t j = 0; j < i; j++)
			if (strcmp(b->meta.rep[j].old, b->meta.rep[i].old) == 0 &&
			    strcmp(b->meta.rep[j].file, b->meta.rep[i].file) == 0)
				return hp_err(-EINVAL, "%s is replaced twice in this patch",
					      b->meta.rep[i].old);
		b->man.nfuncs++;
		r = resolve_func(b, &b->meta.rep[i], &b->man.funcs[i]);
		if (r < 0)
			return r;
	}
	return 0;
}

struct undef_ctx {
	struct build *b;
	int err;
};

static int add_sym(struct manifest *m, const char *name, uint8_t kind, bool weak,
		   uint64_t vaddr, const char *version)
{
	struct manifest_sym *nv = realloc(m->syms, (m->nsyms + 1) * sizeof(*nv));

	if (!nv)
		return hp_err(-ENOMEM, "out of memory");
	m->syms = nv;
	nv[m->nsyms] = (struct manifest_sym){
		.name = strdup(name),
		.kind = kind,
		.weak = weak,
		.vaddr = vaddr,
		.version = strdup(version ? version : ""),
	};
	if (!nv[m->nsyms].name || !nv[m->nsyms].version)
		return hp_err(-ENOMEM, "out of memory");
	m->nsyms++;
	return 0;
}

struct slot_find {
	struct elf_file *ef;
	const struct symtab_entry *e;
	bool tls;
	uint64_t slot;
	bool found;
};

/* Is @r the relocation that fills the target's GOT slot for @f->e? For a
 * thread-local, its TPOFF64: with no symbol and the variable's offset as
 * addend (the target's own), or on the exported symbol (errno). For an
 * IFUNC, its IRELATIVE with the resolver as addend (the target's own calls),
 * or a JUMP_SLOT or GLOB_DAT bound to the exported symbol. */
static bool fills_slot(const struct slot_find *f, const struct elf_rela *r)
{
	bool by_addend = f->tls ? r->type == R_X86_64_TPOFF64 && r->sym == 0
				: r->type == R_X86_64_IRELATIVE;
	bool by_symbol = f->tls ? r->type == R_X86_64_TPOFF64 && r->addend == 0
				: r->type == R_X86_64_JUMP_SLOT || r->type == R_X86_64_GLOB_DAT;
	struct elf_sym s;

	if (by_addend)
		return (uint64_t)r->addend == f->e->value;
	return by_symbol && r->sym && elf_file_dynsym(f->ef, r->sym, &s) == 0 &&
	       strcmp(s.name, f->e->name) == 0;
}

static int slot_rela(const struct elf_rela *r, void *arg)
{
	struct slot_find *f = arg;

	if (!f->found && fills_slot(f, r)) {
		f->slot = r->offset;
		f->found = true;
	}
	return 0;
}

/* The target's GOT slot that its dynamic loader fills for @e (a
 * thread-local's offset from the thread pointer, or the implementation an
 * IFUNC's resolver chose), or -ENOENT. */
static int target_slot(struct build *b, const struct symtab_entry *e, bool tls, uint64_t *ret)
{
	struct slot_find f = {.ef = b->target, .e = e, .tls = tls};
	int r = elf_file_foreach_dynrela(b->target, slot_rela, &f);

	if (r < 0)
		return r;
	if (!f.found)
		return -ENOENT;
	*ret = f.slot;
	return 0;
}

/* The target's GOT slot holding thread-local variable @name's offset from
 * the thread pointer (see tls_reference in patchwrite.c). */
static int tls_slot(struct build *b, const char *name, const char *file, uint64_t *ret)
{
	const struct symtab_entry *e;
	int r = symtab_lookup(&b->syms, name, file, &e);

	if (r < 0)
		return hp_err_prefix(r, "the patch reaches thread-local '%s': ", name);
	if (e->type != STT_TLS)
		return hp_err(-EINVAL, "'%s' is reached as thread-local, but the target's is not",
			      name);
	r = target_slot(b, e, true, ret);
	return r == -ENOENT ? hp_err(r, "the patch reaches thread-local '%s', which no code of "
					"the target reaches the same way (no initial-exec slot "
					"for it); write a patch source that does without it",
				     name)
			    : r;
}

/* The target's GOT slot holding the implementation IFUNC @e's resolver
 * chose in the running process: a patch calls what the target calls. */
static int ifunc_slot(struct build *b, const struct symtab_entry *e, uint64_t *ret)
{
	int r = target_slot(b, e, false, ret);

	return r == -ENOENT ? hp_err(-EINVAL, "'%s' is an IFUNC in the target, and no relocation "
					      "of the target holds its choice; call the "
					      "implementation it selects instead",
				     e->name)
			    : r;
}

static int resolve_undef(const struct elf_sym *s, void *arg)
{
	struct undef_ctx *c = arg;
	const struct patch_import *imp;
	const struct symtab_entry *e;
	const char *name, *file;
	int r;

	if (s->shndx != SHN_UNDEF || !s->name[0])
		return 0;
	imp = patch_meta_import(&c->b->meta, s->name);
	name = imp ? imp->name : s->name;
	file = imp ? imp->file : NULL;
	if (strncmp(name, HP_TLS_SLOT_PREFIX, strlen(HP_TLS_SLOT_PREFIX)) == 0) {
		uint64_t slot;

		r = tls_slot(c->b, name + strlen(HP_TLS_SLOT_PREFIX), file, &slot);
		return r < 0 ? r : add_sym(&c->b->man, s->name, SYM_TARGET, false, slot, NULL);
	}
	r = symtab_lookup(&c->b->syms, name, file, &e);
	if (r == 0) {
		if (e->type == STT_GNU_IFUNC) {
			uint64_t slot = 0;

			r = ifunc_slot(c->b, e, &slot);
			return r < 0 ? r : add_sym(&c->b->man, s->name, SYM_TARGET_IFUNC, false, slot,
						  NULL);
		}
		return add_sym(&c->b->man, s->name, SYM_TARGET, false, e->value, NULL);
	}
	if (r != -ENOENT || imp)
		return r;
	/* Not the target's: another module of the process provides it. */
	hp_err_clear();
	return add_sym(&c->b->man, s->name, SYM_EXTERNAL, s->bind == STB_WEAK, 0, s->version);
}

static int resolve_syms(struct build *b)
{
	struct undef_ctx c = {.b = b};
	int r = elf_file_foreach_symbol(b->obj, true, resolve_undef, &c);

	return r == -ENOENT ? 0 : r;
}

/* One target symbol the patch names (an alias from .hotpatch.import, or a
 * plain name), which must be in the target itself. */
static int target_address(struct build *b, const char *name, uint64_t *ret)
{
	const struct patch_import *imp = patch_meta_import(&b->meta, name);
	const struct symtab_entry *e;
	const char *n = imp ? imp->name : name;
	int r;

	if (strncmp(n, HP_TLS_SLOT_PREFIX, strlen(HP_TLS_SLOT_PREFIX)) == 0)
		return tls_slot(b, n + strlen(HP_TLS_SLOT_PREFIX), imp ? imp->file : NULL, ret);
	r = symtab_lookup(&b->syms, n, imp ? imp->file : NULL, &e);
	if (r < 0)
		return hp_err_prefix(r, "the patch reaches '%s' directly: ", imp ? imp->name : name);
	*ret = e->value;
	return 0;
}

/* .hotpatch.textrel (diff builds): "site label, target, type, addend". */
static int resolve_textrels(struct build *b)
{
	const uint8_t *p;
	size_t size, n = 0;
	char *v[4];
	int r;

	r = elf_file_section(b->obj, ".hotpatch.textrel", NULL, &p, &size);
	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return r;
	for (size_t i = 0; i < size; i++)
		n += p[i] == '\0';
	b->man.textrels = calloc(n / 4 + 1, sizeof(*b->man.textrels));
	if (!b->man.textrels)
		return hp_err(-ENOMEM, "out of memory");
	for (size_t off = 0, k = 0; off < size; k = 0) {
		struct manifest_textrel *t = &b->man.textrels[b->man.ntextrels];
		uint64_t sz;

		for (; k < 4 && off < size; k++) {
			v[k] = (char *)p + off;
			off += strnlen(v[k], size - off) + 1;
		}
		if (k != 4)
			return hp_err(-EBADMSG, "malformed .hotpatch.textrel");
		r = find_patch_symbol(b, v[0], STT_NOTYPE, &t->site, &sz);
		if (r == 0)
			r = target_address(b, v[1], &t->target);
		if (r < 0)
			return r;
		t->type = (uint32_t)strtoul(v[2], NULL, 10);
		t->addend = strtoll(v[3], NULL, 10);
		b->man.ntextrels++;
	}
	return 0;
}

static int find_record(struct build *b)
{
	uint64_t size;
	int r = find_patch_symbol(b, "__hotpatch_record", STT_OBJECT, &b->man.record_vaddr, &size);

	if (r < 0)
		return r;
	if (size != record_size(b->man.nfuncs))
		return hp_err(-EINVAL, "internal error: record size %llu for %zu functions",
			      (unsigned long long)size, b->man.nfuncs);
	b->man.record_size = (uint32_t)size;
	return 0;
}

static char *default_name(const char *output)
{
	const char *base = strrchr(output, '/');
	char *name = strdup(base ? base + 1 : output);
	char *dot;

	if (name && (dot = strrchr(name, '.')) && strcmp(dot, ".hpb") == 0)
		*dot = '\0';
	return name;
}

static int fill_identity(struct build *b)
{
	const struct build_common *o = b->o;

	b->man.name = o->name ? strdup(o->name) : default_name(o->output);
	b->man.description = strdup(o->description       ? o->description
				    : b->meta.description ? b->meta.description
				    : b->description      ? b->description
							  : "");
	b->man.tool_version = strdup(HP_VERSION);
	b->man.created = (uint64_t)time(NULL);
	b->man.cves = calloc(b->meta.ncves + b->ncves + 1, sizeof(char *));
	if (!b->man.name || !b->man.description || !b->man.tool_version || !b->man.cves)
		return hp_err(-ENOMEM, "out of memory");
	for (size_t i = 0; i < b->meta.ncves; i++)
		if (!(b->man.cves[b->man.ncves++] = strdup(b->meta.cves[i])))
			return hp_err(-ENOMEM, "out of memory");
	for (size_t i = 0; i < b->ncves; i++)
		if (!(b->man.cves[b->man.ncves++] = strdup(b->cves[i])))
			return hp_err(-ENOMEM, "out of memory");
	return 0;
}

static int write_bundle(struct build *b)
{
	_cleanup_free_ uint8_t *obj = NULL;
	struct bundle_parts parts = {.manifest = &b->man};
	size_t size;
	FILE *f;

	f = fopen(b->hpo, "re");
	if (!f)
		return hp_err(-errno, "cannot read %s: %m", b->hpo);
	fseek(f, 0, SEEK_END);
	size = (size_t)ftell(f);
	rewind(f);
	obj = malloc(size);
	if (!obj || fread(obj, 1, size, f) != size) {
		fclose(f);
		return hp_err(-EIO, "cannot read %s", b->hpo);
	}
	fclose(f);
	parts.object = obj;
	parts.object_size = size;
	parts.file_update = b->file_update.data;
	parts.file_update_size = b->file_update.len;
	parts.explain = b->explain;
	parts.verdict = b->verdict;
	parts.debref = b->file_update.len ? b->o->debref : NULL;
	return bundle_write(b->o->output, &parts);
}

static int rm_cb(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

void build_end(struct build *b)
{
	if (b->tmp[0] && !b->o->keep_tmp)
		nftw(b->tmp, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
	elf_file_close(b->target);
	elf_file_close(b->obj);
	symtab_free(&b->syms);
	patch_meta_free(&b->meta);
	manifest_free(&b->man);
	for (size_t i = 0; i < b->nobjs; i++)
		free(b->objs[i]);
	free(b->objs);
	for (size_t i = 0; i < b->ncves; i++)
		free(b->cves[i]);
	free(b->cves);
	free(b->description);
	free(b->explain);
	free(b->verdict);
	free(b->thunks);
	buf_free(&b->file_update);
}

static int make_tmpdir(struct build *b)
{
	const char *t = getenv("TMPDIR");

	snprintf(b->tmp, sizeof(b->tmp), "%s/hotpatch-build-XXXXXX", t && *t ? t : "/tmp");
	if (!mkdtemp(b->tmp)) {
		b->tmp[0] = '\0';
		return hp_err(-errno, "cannot create a temporary directory: %m");
	}
	return 0;
}

int build_begin(struct build *b, const struct build_common *o)
{
	int r;

	*b = (struct build){.o = o};
	r = open_target(b);
	if (r == 0)
		r = make_tmpdir(b);
	return r;
}

static int check_regs(struct build *b)
{
	struct regcheck rc = {.target = b->target, .syms = &b->syms, .obj = b->obj,
			      .obj_path = b->hpo, .man = &b->man};
	int r = regcheck_replacements(&rc);

	b->thunks = rc.thunks;
	b->nthunks = rc.nthunks;
	return r;
}

/* The thunks regcheck asked for, linked in; the jumps then go to them. */
static int link_thunks(struct build *b)
{
	char src[PATH_MAX + 32], out[PATH_MAX + 32], name[64];
	uint64_t size;
	int r;

	snprintf(src, sizeof(src), "%s/thunks.S", b->tmp);
	snprintf(out, sizeof(out), "%s/thunks.o", b->tmp);
	r = thunk_write(src, b->thunks, b->nthunks, &b->man);
	if (r == 0)
		r = build_compile(b, src, out);
	if (r < 0)
		return hp_err_prefix(r, "the register-keeping thunks: ");
	r = build_add_obj(b, out);
	if (r < 0)
		return r;
	b->obj = elf_file_close(b->obj);
	r = link_object(b);
	if (r == 0)
		r = patchobj_check(b->obj);
	for (size_t i = 0; r == 0 && i < b->man.nfuncs; i++)
		r = find_patch_symbol(b, b->man.funcs[i].new_name, STT_FUNC,
				      &b->man.funcs[i].new_vaddr, &size);
	for (size_t i = 0; r == 0 && i < b->nthunks; i++) {
		snprintf(name, sizeof(name), THUNK_PREFIX "%zu", i);
		r = find_patch_symbol(b, name, STT_FUNC, &b->man.funcs[b->thunks[i].func].new_vaddr,
				      &size);
	}
	return r;
}

int build_finish(struct build *b)
{
	int r;

	r = make_record(b);
	if (r == 0)
		r = link_object(b);
	if (r == 0)
		r = patchobj_check(b->obj);
	if (r == 0)
		r = patchobj_read_meta(b->obj, &b->meta);
	if (r == 0)
		r = resolve_funcs(b);
	if (r == 0 && b->check_regs)
		r = check_regs(b);
	if (r == 0 && b->nthunks)
		r = link_thunks(b);
	if (r == 0)
		r = resolve_syms(b);
	if (r == 0)
		r = resolve_textrels(b);
	if (r == 0)
		r = find_record(b);
	if (r == 0)
		r = fill_identity(b);
	if (r == 0 && b->file_update.len)
		r = b->file_update.oom ? hp_err(-ENOMEM, "out of memory") : 0;
	if (r == 0)
		r = write_bundle(b);
	if (r == 0 && b->o->keep_tmp)
		progress("build files kept in %s", b->tmp);
	return r;
}
