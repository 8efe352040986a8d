/* SPDX-License-Identifier: MIT */
#include "completeness.h"

#include <capstone/capstone.h>
#include <dwarf.h>
#include <elf.h>
#include <elfutils/libdw.h>
#include <fcntl.h>
#include <gelf.h>
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "diffparse.h"
#include "elffile.h"
#include "error.h"
#include "macro.h"

#define IDENT 256
#define DEPTH_MAX 2

/* Entries of a switch's jump table looked at, at most. */
#define JUMP_TABLE_MAX 4096

struct csym {
	char *key;         /* name, or for a local FILE#rank:name */
	const char *name;
	const char *file;  /* the STT_FILE a local follows, else "" */
	uint64_t addr, size;
	uint64_t shflags;
	unsigned char type, bind;
	int peer;          /* the other build's symbol of the same key, or -1 */
	bool relro;        /* in .data.rel.ro: written once, at load */
	bool replaced;     /* (fixed build) the bundle replaces it */
	bool differs;
};

struct dynrel {
	uint64_t off;
	char id[IDENT];
};

struct side {
	struct elf_file *code, *syms;
	const char *path;
	struct csym *v; /* by address */
	size_t n;
	struct dynrel *dyn;
	size_t ndyn;
	uint64_t lo, hi;
	bool fixed_address; /* ET_EXEC: data holds absolute addresses with no relocation */
};

struct bundle {
	char **replace; /* name, file pairs */
	size_t nreplace;
	char **defined; /* every symbol patch.o defines */
	size_t ndefined;
};

/* A use of a data object by a function or another object (fixed build). */
struct use {
	size_t from, to;
};

struct check {
	const struct completeness_input *in;
	struct side a, b;
	struct bundle bun;
	struct use *uses;
	size_t nuses;
	csh cs;
	cs_insn *ia, *ib, *ip; /* the instructions compared; a PLT entry's */
	struct completeness_result *res;
	size_t current; /* the fixed build's symbol whose uses are being recorded, or -1 */
	bool record;
	uint32_t jt_a[JUMP_TABLE_MAX], jt_b[JUMP_TABLE_MAX]; /* same_jump_table() */
};

static void side_free(struct side *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i].key);
	free(s->v);
	free(s->dyn);
	elf_file_close(s->code);
	if (s->syms != s->code)
		elf_file_close(s->syms);
	*s = (struct side){0};
}

static int cmp_addr(const void *x, const void *y)
{
	const struct csym *a = x, *b = y;

	return (a->addr > b->addr) - (a->addr < b->addr);
}

/* Each STT_FILE gets a rank among those of its name: the first util.c is
 * util.c#0, a vendored one linked later util.c#1. The link order is the
 * build's, the same in both builds. */
struct files {
	const char *name[4096];
	unsigned count[4096];
	size_t n;
};

static unsigned file_rank(struct files *f, const char *name)
{
	for (size_t i = 0; i < f->n; i++)
		if (strcmp(f->name[i], name) == 0)
			return f->count[i]++;
	if (f->n < ARRAY_SIZE(f->name)) {
		f->name[f->n] = name;
		f->count[f->n++] = 1;
	}
	return 0;
}

static int add_sym(struct side *s, const GElf_Sym *sym, const char *name, const char *file,
		   unsigned rank, uint64_t shflags, const char *secname)
{
	struct csym *nv = realloc(s->v, (s->n + 1) * sizeof(*nv));
	struct csym *c;

	if (!nv)
		return -ENOMEM;
	s->v = nv;
	c = &nv[s->n];
	*c = (struct csym){.name = name, .file = file ? file : "", .addr = sym->st_value,
			   .size = sym->st_size, .shflags = shflags,
			   .type = GELF_ST_TYPE(sym->st_info), .bind = GELF_ST_BIND(sym->st_info),
			   .peer = -1,
			   .relro = secname && strncmp(secname, ".data.rel.ro", 12) == 0};
	if (c->bind == STB_LOCAL && asprintf(&c->key, "%s#%u:%s", c->file, rank, name) < 0)
		c->key = NULL;
	else if (c->bind != STB_LOCAL)
		c->key = strdup(name);
	if (!c->key)
		return -ENOMEM;
	s->n++;
	return 0;
}

static int read_symtab(struct side *s)
{
	Elf *e = elf_file_elf(s->syms);
	Elf_Scn *scn = NULL;
	struct files files = {0};
	size_t shstr = 0;

	elf_getshdrstrndx(e, &shstr);
	while ((scn = elf_nextscn(e, scn))) {
		GElf_Shdr sh;
		Elf_Data *d;
		const char *file = NULL;
		unsigned rank = 0;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_SYMTAB)
			continue;
		d = elf_getdata(scn, NULL);
		for (size_t k = 1; d && k < d->d_size / sizeof(Elf64_Sym); k++) {
			GElf_Sym sym;
			GElf_Shdr target;
			const char *name;
			int t;

			if (!gelf_getsym(d, (int)k, &sym))
				return hp_err(-EBADMSG, "%s: bad symbol %zu", s->path, k);
			name = elf_strptr(e, sh.sh_link, sym.st_name);
			t = GELF_ST_TYPE(sym.st_info);
			if (t == STT_FILE) {
				file = name ? name : "";
				rank = file_rank(&files, file);
				continue;
			}
			if ((t != STT_FUNC && t != STT_OBJECT) || !sym.st_size || !name ||
			    sym.st_shndx == SHN_UNDEF || sym.st_shndx >= SHN_LORESERVE ||
			    !gelf_getshdr(elf_getscn(e, sym.st_shndx), &target) ||
			    !(target.sh_flags & SHF_ALLOC))
				continue;
			if (add_sym(s, &sym, name, GELF_ST_BIND(sym.st_info) == STB_LOCAL ? file : NULL,
				    rank, target.sh_flags, elf_strptr(e, shstr, target.sh_name)) < 0)
				return hp_err(-ENOMEM, "out of memory");
		}
		qsort(s->v, s->n, sizeof(*s->v), cmp_addr);
		return 0;
	}
	return hp_err(-ENOENT, "%s has no symbol table (.symtab); the completeness check needs "
			       "the linked build's symbols",
		      s->path);
}

static const struct csym *containing(const struct side *s, uint64_t a)
{
	size_t lo = 0, hi = s->n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (s->v[mid].addr <= a)
			lo = mid + 1;
		else
			hi = mid;
	}
	/* aliases share an address: any of them whose span holds @a */
	for (size_t i = lo, seen = 0; i-- > 0 && seen++ < 16;)
		if (a >= s->v[i].addr && a < s->v[i].addr + s->v[i].size)
			return &s->v[i];
	return NULL;
}

static const struct dynrel *dyn_at(const struct side *s, uint64_t off)
{
	size_t lo = 0, hi = s->ndyn;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (s->dyn[mid].off == off)
			return &s->dyn[mid];
		if (s->dyn[mid].off < off)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static void addr_ident(const struct check *c, const struct side *s, uint64_t a, int depth,
		       char *buf, size_t len);

struct dyn_ctx {
	struct side *s;
	int r;
};

/* A dynamic relocation names a symbol; a relative one an address, named
 * later (it needs the symbols). */
static int collect_dyn(const struct elf_rela *r, void *arg)
{
	struct dyn_ctx *x = arg;
	struct side *s = x->s;
	struct dynrel *nv = realloc(s->dyn, (s->ndyn + 1) * sizeof(*nv));
	struct elf_sym sym = {0};

	if (!nv)
		return x->r = -ENOMEM;
	s->dyn = nv;
	nv[s->ndyn].off = r->offset;
	if (r->sym && elf_file_dynsym(s->code, r->sym, &sym) == 0)
		snprintf(nv[s->ndyn].id, IDENT, "dyn:%s%+" PRId64, sym.name, r->addend);
	else
		snprintf(nv[s->ndyn].id, IDENT, "rel:%" PRIu64, (uint64_t)r->addend);
	hp_err_clear();
	s->ndyn++;
	return 0;
}

static int cmp_dyn(const void *x, const void *y)
{
	const struct dynrel *a = x, *b = y;

	return (a->off > b->off) - (a->off < b->off);
}

static int open_side(struct side *s, const char *code, const char *syms)
{
	struct dyn_ctx x = {.s = s};
	int r;

	s->path = code;
	r = elf_file_open(code, &s->code);
	if (r == 0 && syms && strcmp(syms, code) != 0)
		r = elf_file_open(syms, &s->syms);
	else if (r == 0)
		s->syms = s->code;
	if (r == 0)
		r = read_symtab(s);
	if (r == 0)
		r = elf_file_load_span(s->code, &s->lo, &s->hi);
	if (r < 0)
		return r;
	s->fixed_address = elf_file_ehdr(s->code)->e_type == ET_EXEC;
	elf_file_foreach_dynrela(s->code, collect_dyn, &x);
	hp_err_clear();
	if (x.r < 0)
		return hp_err(x.r, "out of memory");
	qsort(s->dyn, s->ndyn, sizeof(*s->dyn), cmp_dyn);
	return 0;
}

static bool read_at(const struct side *s, uint64_t a, void *buf, size_t len)
{
	bool ok = elf_file_read_vaddr(s->code, a, buf, len) == 0;

	hp_err_clear();
	return ok;
}

/* A hash of a read-only object's bytes, its addresses named (depth-limited:
 * a table of tables). */
static uint64_t object_hash(const struct check *c, const struct side *s, const struct csym *o,
			    int depth)
{
	uint64_t h = 0xcbf29ce484222325ULL; /* FNV-1a */
	uint8_t b[4096];
	size_t n = MIN(o->size, sizeof(b));

	if (!read_at(s, o->addr, b, n))
		return 0;
	for (size_t i = 0; i < n;) {
		const struct dynrel *d = dyn_at(s, o->addr + i);
		char id[IDENT] = "";
		uint64_t w;

		if (d && i + 8 <= n) {
			if (strncmp(d->id, "rel:", 4) == 0)
				addr_ident(c, s, strtoull(d->id + 4, NULL, 10), depth + 1, id, sizeof(id));
			else
				snprintf(id, sizeof(id), "%s", d->id);
		} else if (s->fixed_address && i % 8 == 0 && i + 8 <= n &&
			   (memcpy(&w, b + i, 8), w >= s->lo && w < s->hi)) {
			addr_ident(c, s, w, depth + 1, id, sizeof(id));
		}
		if (id[0]) {
			for (const char *p = id; *p; p++)
				h = (h ^ (uint8_t)*p) * 0x100000001b3ULL;
			i += 8;
		} else {
			h = (h ^ b[i++]) * 0x100000001b3ULL;
		}
	}
	return h;
}

static bool numbered(const char *name)
{
	const char *dot = strrchr(name, '.');

	return dot && dot[1] && strspn(dot + 1, "0123456789") == strlen(dot + 1);
}

static void record_use(struct check *c, const struct side *s, const struct csym *to)
{
	struct use *nv;

	if (!c->record || s != &c->b || c->current == (size_t)-1 || to->type != STT_OBJECT)
		return;
	nv = realloc(c->uses, (c->nuses + 1) * sizeof(*nv));
	if (!nv)
		return;
	c->uses = nv;
	nv[c->nuses++] = (struct use){.from = c->current, .to = (size_t)(to - s->v)};
}

/* Where the PLT or GOT entry at @a leads: the slot its jmp reads. */
static bool plt_slot(const struct check *c, const struct side *s, uint64_t a, uint64_t *ret)
{
	uint8_t code[16];
	const uint8_t *p = code;
	size_t n = sizeof(code);
	uint64_t at = a;
	cs_insn *in = c->ip;

	if (!read_at(s, a, code, sizeof(code)))
		return false;
	for (int k = 0; k < 3 && cs_disasm_iter(c->cs, &p, &n, &at, in); k++) {
		const cs_x86 *x = &in->detail->x86;

		if (in->id != X86_INS_JMP || x->op_count != 1 || x->operands[0].type != X86_OP_MEM ||
		    x->operands[0].mem.base != X86_REG_RIP)
			continue;
		*ret = in->address + in->size + (uint64_t)x->operands[0].mem.disp;
		return true;
	}
	return false;
}

static void section_ident(const struct check *c, const struct side *s, uint64_t a, int depth,
			  char *buf, size_t len)
{
	const struct dynrel *d = dyn_at(s, a);
	uint8_t b[24] = {0};
	uint64_t slot;
	size_t n = 0;

	if (d) {
		if (strncmp(d->id, "rel:", 4) == 0 && depth < DEPTH_MAX)
			addr_ident(c, s, strtoull(d->id + 4, NULL, 10), depth + 1, buf, len);
		else
			snprintf(buf, len, "%s", d->id);
		return;
	}
	if (depth < DEPTH_MAX && plt_slot(c, s, a, &slot) && dyn_at(s, slot)) {
		snprintf(buf, len, "plt:%s", dyn_at(s, slot)->id);
		return;
	}
	/* a string literal or a constant: what it holds */
	if (!read_at(s, a, b, sizeof(b)))
		read_at(s, a, b, 8);
	while (n < sizeof(b) && b[n])
		n++;
	snprintf(buf, len, "at:");
	for (size_t i = 0; i < MIN(n + 1, sizeof(b)); i++)
		snprintf(buf + strlen(buf), len - strlen(buf), "%02x", b[i]);
}

/* What address @a names, the same in both builds when nothing changed. */
static void addr_ident(const struct check *c, const struct side *s, uint64_t a, int depth,
		       char *buf, size_t len)
{
	const struct csym *o = containing(s, a);

	if (!o) {
		section_ident(c, s, a, depth, buf, len);
		return;
	}
	record_use((struct check *)c, s, o);
	if (o->type == STT_OBJECT && !(o->shflags & SHF_WRITE) && depth < DEPTH_MAX &&
	    (numbered(o->name) || o->peer < 0)) {
		/* a renumbered __PRETTY_FUNCTION__.3: by its bytes */
		snprintf(buf, len, "ro:%016" PRIx64 ":%" PRIu64 "+%" PRIu64,
			 object_hash(c, s, o, depth), o->size, a - o->addr);
		return;
	}
	if (o->type == STT_OBJECT && o->bind == STB_LOCAL && numbered(o->name)) {
		/* GCC's numbering of function-local statics shifts */
		snprintf(buf, len, "%s:%.*s+%" PRIu64, o->file,
			 (int)(strrchr(o->name, '.') - o->name), o->name, a - o->addr);
		return;
	}
	snprintf(buf, len, "%s+%" PRIu64, o->key, a - o->addr);
}

/* The target of a PC-relative operand or a branch of @in, or false. */
static bool insn_target(const cs_insn *in, uint64_t *ret, unsigned *off, unsigned *size)
{
	const cs_x86 *x = &in->detail->x86;

	for (uint8_t i = 0; i < x->op_count; i++) {
		const cs_x86_op *op = &x->operands[i];

		if (op->type == X86_OP_MEM && op->mem.base == X86_REG_RIP) {
			*ret = in->address + in->size + (uint64_t)op->mem.disp;
			*off = x->encoding.disp_offset;
			*size = x->encoding.disp_size;
			return true;
		}
	}
	for (uint8_t g = 0; g < in->detail->groups_count; g++) {
		uint8_t grp = in->detail->groups[g];

		if ((grp == CS_GRP_JUMP || grp == CS_GRP_CALL || grp == CS_GRP_BRANCH_RELATIVE) &&
		    x->op_count == 1 && x->operands[0].type == X86_OP_IMM) {
			*ret = (uint64_t)x->operands[0].imm;
			*off = x->encoding.imm_offset;
			*size = x->encoding.imm_size;
			return true;
		}
	}
	return false;
}

enum sameness { SAME, LINES_ONLY, DIFFERS };

/* A switch's jump table: 32-bit offsets from the table to places in @f, in
 * read-only data that has no symbol. Where it lies moves with the data
 * around it, and so do its offsets: it is known by where its entries lead
 * inside @f. Its length is not recorded anywhere but in the code's bound
 * check (compared as code), and the words after it may happen to lead into
 * @f too: so the entries are read until one does not, into @ret, and two
 * builds' tables agree when the shorter list is a prefix of the longer. */
static unsigned jump_table(const struct side *s, const struct csym *f, uint64_t t,
			   uint32_t *ret, unsigned max)
{
	unsigned n = 0;

	if (containing(s, t))
		return 0;
	for (; n < max; n++) {
		int32_t off;
		uint64_t to;

		if (!read_at(s, t + 4 * (uint64_t)n, &off, sizeof(off)))
			break;
		to = t + (uint64_t)(int64_t)off;
		if (to < f->addr || to >= f->addr + f->size)
			break;
		ret[n] = (uint32_t)(to - f->addr);
	}
	return n >= 2 ? n : 0;
}

/* 1: both targets are jump tables that lead to the same places; 0: neither
 * is one; -1: they are, and lead elsewhere. */
static int same_jump_table(struct check *c, const struct csym *fa, uint64_t ta,
			   const struct csym *fb, uint64_t tb)
{
	unsigned na = jump_table(&c->a, fa, ta, c->jt_a, JUMP_TABLE_MAX);
	unsigned nb = jump_table(&c->b, fb, tb, c->jt_b, JUMP_TABLE_MAX);

	if (!na || !nb)
		return 0;
	return memcmp(c->jt_a, c->jt_b, MIN(na, nb) * sizeof(uint32_t)) == 0 ? 1 : -1;
}

/* How many bytes @in reads or writes at its RIP-relative operand: 0 when
 * it only takes the address (lea) or has none. */
static unsigned access_width(const cs_insn *in)
{
	const cs_x86 *x = &in->detail->x86;

	if (in->id == X86_INS_LEA)
		return 0;
	for (uint8_t i = 0; i < x->op_count; i++)
		if (x->operands[i].type == X86_OP_MEM && x->operands[i].mem.base == X86_REG_RIP)
			return x->operands[i].size;
	return 0;
}

/* An unnamed constant @width bytes wide (a float, a mask: GCC's .LC in a
 * merged constant section): what it holds, and nothing after it, which
 * is another object's constant or a jump table that may well change. */
static bool constant_ident(const struct side *s, uint64_t a, unsigned width, char *buf,
			   size_t len)
{
	uint8_t b[64];

	if (!width || width > sizeof(b) || !read_at(s, a, b, width))
		return false;
	snprintf(buf, len, "at:");
	for (unsigned i = 0; i < width; i++)
		snprintf(buf + strlen(buf), len - strlen(buf), "%02x", b[i]);
	return true;
}

static void target_ident(struct check *c, const struct side *s, const struct csym *f,
			 const cs_insn *in, uint64_t t, char *buf, size_t len)
{
	if (t >= f->addr && t < f->addr + f->size)
		snprintf(buf, len, "self+%" PRIu64, t - f->addr);
	else if (containing(s, t) || dyn_at(s, t) ||
		 !constant_ident(s, t, access_width(in), buf, len))
		addr_ident(c, s, t, 0, buf, len);
}

static uint32_t le(const uint8_t *p, unsigned size)
{
	uint32_t v = 0;

	for (unsigned i = 0; i < size && i < 4; i++)
		v |= (uint32_t)p[i] << (8 * i);
	return v;
}

/* One pair of instructions of the same length and kind. */
static enum sameness compare_insn(struct check *c, const struct csym *fa, const struct csym *fb,
				 const uint8_t *pa, const uint8_t *pb)
{
	cs_insn *ia = c->ia, *ib = c->ib;
	uint8_t ma[16], mb[16];
	uint64_t ta, tb;
	unsigned oa = 0, sa = 0, ob = 0, sb = 0;
	bool has_a = insn_target(ia, &ta, &oa, &sa), has_b = insn_target(ib, &tb, &ob, &sb);
	const cs_x86_encoding *enc = &ia->detail->x86.encoding;

	if (has_a != has_b || oa != ob || sa != sb || ia->size > sizeof(ma))
		return DIFFERS;
	memcpy(ma, pa, ia->size);
	memcpy(mb, pb, ib->size);
	if (has_a) {
		char ida[IDENT], idb[IDENT];
		int jt = same_jump_table(c, fa, ta, fb, tb);

		if (jt < 0)
			return DIFFERS;
		if (jt == 0) {
			target_ident(c, &c->a, fa, ia, ta, ida, sizeof(ida));
			target_ident(c, &c->b, fb, ib, tb, idb, sizeof(idb));
			if (strcmp(ida, idb) != 0)
				return DIFFERS;
		}
		memset(ma + oa, 0, sa);
		memset(mb + ob, 0, sb);
	}
	if (memcmp(ma, mb, ia->size) == 0)
		return SAME;
	/* only an immediate that is a line the diff moved */
	if (!enc->imm_offset || (enc->imm_size != 2 && enc->imm_size != 4) || !c->in->diff ||
	    memcmp(ma, mb, enc->imm_offset) != 0 ||
	    memcmp(ma + enc->imm_offset + enc->imm_size, mb + enc->imm_offset + enc->imm_size,
		   ia->size - enc->imm_offset - enc->imm_size) != 0)
		return DIFFERS;
	return diff_moves_line(c->in->diff, le(pa + enc->imm_offset, enc->imm_size),
			       le(pb + enc->imm_offset, enc->imm_size))
		       ? LINES_ONLY
		       : DIFFERS;
}

static enum sameness compare_code(struct check *c, const struct csym *fa, const struct csym *fb)
{
	_cleanup_free_ uint8_t *a = malloc(fa->size), *b = malloc(fb->size);
	const uint8_t *pa = a, *pb = b;
	size_t na = fa->size, nb = fb->size;
	uint64_t at_a = fa->addr, at_b = fb->addr;
	enum sameness v = SAME;

	if (!a || !b || fa->size != fb->size || !read_at(&c->a, fa->addr, a, na) ||
	    !read_at(&c->b, fb->addr, b, nb))
		return DIFFERS;
	while (na && v != DIFFERS) {
		const uint8_t *xa = pa, *xb = pb;
		enum sameness k;

		if (!cs_disasm_iter(c->cs, &pa, &na, &at_a, c->ia) ||
		    !cs_disasm_iter(c->cs, &pb, &nb, &at_b, c->ib) || c->ia->size != c->ib->size ||
		    c->ia->id != c->ib->id)
			return memcmp(a, b, fa->size) == 0 ? SAME : DIFFERS;
		k = compare_insn(c, fa, fb, xa, xb);
		v = k > v ? k : v;
	}
	return v;
}

static enum sameness compare_data(struct check *c, const struct csym *oa, const struct csym *ob)
{
	if (oa->size != ob->size)
		return DIFFERS;
	if (oa->size > 1 << 24)
		return SAME; /* not read: a huge .bss array */
	return object_hash(c, &c->a, oa, 0) == object_hash(c, &c->b, ob, 0) ? SAME : DIFFERS;
}

static int read_bundle(struct bundle *bun, const char *path)
{
	struct elf_file *ef = NULL;
	Elf *e;
	Elf_Scn *scn = NULL;
	size_t shstr;
	int r = elf_file_open(path, &ef);

	if (r < 0)
		return r;
	e = elf_file_elf(ef);
	elf_getshdrstrndx(e, &shstr);
	while ((scn = elf_nextscn(e, scn))) {
		GElf_Shdr sh;
		Elf_Data *d = elf_getdata(scn, NULL);
		const char *name;

		if (!gelf_getshdr(scn, &sh) || !d)
			continue;
		name = elf_strptr(e, shstr, sh.sh_name);
		if (name && strcmp(name, ".hotpatch.replace") == 0) {
			/* name, file, the replacement's name */
			const char *p = d->d_buf, *end = p + d->d_size;

			for (int k = 0; p < end; p += strlen(p) + 1, k++) {
				char **nv;

				if (k % 3 == 2)
					continue;
				nv = realloc(bun->replace, (bun->nreplace + 1) * sizeof(*nv));
				if (!nv || !(nv[bun->nreplace] = strdup(p)))
					goto oom;
				bun->replace = nv;
				bun->nreplace++;
			}
		} else if (sh.sh_type == SHT_SYMTAB) {
			for (size_t k = 1; k < d->d_size / sizeof(Elf64_Sym); k++) {
				GElf_Sym sym;
				const char *sn;
				char **nv;

				if (!gelf_getsym(d, (int)k, &sym) || sym.st_shndx == SHN_UNDEF ||
				    !(sn = elf_strptr(e, sh.sh_link, sym.st_name)) || !sn[0])
					continue;
				nv = realloc(bun->defined, (bun->ndefined + 1) * sizeof(*nv));
				if (!nv || !(nv[bun->ndefined] = strdup(sn)))
					goto oom;
				bun->defined = nv;
				bun->ndefined++;
			}
		}
	}
	elf_file_close(ef);
	return 0;
oom:
	elf_file_close(ef);
	return hp_err(-ENOMEM, "out of memory");
}

/* Tests only: the check sees a bundle that does not replace this function,
 * as a builder that missed its change would make. */
static bool omitted_for_test(const char *name)
{
	const char *omit = getenv("HOTPATCH_TEST_BUNDLE_OMITS");

	return omit && strcmp(omit, name) == 0;
}

static bool bundle_replaces(const struct bundle *bun, const struct csym *f)
{
	if (omitted_for_test(f->name))
		return false;
	for (size_t i = 0; i + 1 < bun->nreplace; i += 2)
		if (strcmp(bun->replace[i], f->name) == 0 &&
		    strcmp(bun->replace[i + 1], f->bind == STB_LOCAL ? f->file : "") == 0)
			return true;
	return false;
}

static bool bundle_defines(const struct bundle *bun, const char *name)
{
	size_t n = strlen(name);

	for (size_t i = 0; i < bun->ndefined; i++)
		if (strncmp(bun->defined[i], name, n) == 0 &&
		    (!bun->defined[i][n] || strncmp(bun->defined[i] + n, ".hp", 3) == 0))
			return true;
	return false;
}

static int cmp_key(const void *x, const void *y)
{
	const struct csym *a = *(const struct csym *const *)x, *b = *(const struct csym *const *)y;
	int k = strcmp(a->key, b->key);

	return k ? k : (a->type > b->type) - (a->type < b->type);
}

/* Pairs every symbol with the other build's of the same key. */
static int pair_keys(struct check *c)
{
	_cleanup_free_ struct csym **byk = calloc(c->a.n + 1, sizeof(*byk));

	if (!byk)
		return hp_err(-ENOMEM, "out of memory");
	for (size_t k = 0; k < c->a.n; k++)
		byk[k] = &c->a.v[k];
	qsort(byk, c->a.n, sizeof(*byk), cmp_key);
	for (size_t i = 0; i < c->b.n; i++) {
		struct csym *want = &c->b.v[i], **hit;

		hit = bsearch(&want, byk, c->a.n, sizeof(*byk), cmp_key);
		if (hit && (*hit)->peer < 0) {
			want->peer = (int)(*hit - c->a.v);
			(*hit)->peer = (int)i;
		}
	}
	return 0;
}

/* The full source path of the fixed build's function at @addr, from its
 * debug info, for the message; else its STT_FILE name. */
static void source_of(const struct check *c, const struct csym *f, char *ret, size_t len)
{
	const char *paths[] = {c->in->new_syms ? c->in->new_syms : c->in->new_code,
			       c->in->new_code};
	snprintf(ret, len, "%s", f->file[0] ? f->file : "a global: its source file is not known");
	for (size_t i = 0; i < ARRAY_SIZE(paths); i++) {
		int fd = open(paths[i], O_RDONLY | O_CLOEXEC);
		Dwarf *dw = fd >= 0 ? dwarf_begin(fd, DWARF_C_READ) : NULL;
		Dwarf_Die cu;
		Dwarf_Attribute at;
		const char *name, *dir;

		if (dw && dwarf_addrdie(dw, f->addr, &cu) && (name = dwarf_diename(&cu))) {
			dir = dwarf_formstring(dwarf_attr(&cu, DW_AT_comp_dir, &at));
			if (name[0] == '/' || !dir)
				snprintf(ret, len, "%s", name);
			else
				snprintf(ret, len, "%s/%s", dir, name);
			i = ARRAY_SIZE(paths);
		}
		if (dw)
			dwarf_end(dw);
		if (fd >= 0)
			close(fd);
	}
}

static bool is_version_object(const struct csym *o)
{
	return strcasestr(o->name, "version") || strcasestr(o->name, "build_id") ||
	       strcasestr(o->name, "buildid");
}

/* A difference nothing accounts for: the error naming it and its source
 * file, or with collect, a refusal kept for the caller and the check goes
 * on (0). */
static int unaccounted(const struct check *c, const struct csym *f, const char *what)
{
	struct completeness_result *res = c->res;
	char src[PATH_MAX];
	struct refusal ref, *nv;
	int r;

	source_of(c, f, src, sizeof(src));
	r = hp_err(-EINVAL,
		   "completeness check: %s %s (%s) differs between the original and the "
		   "fixed build of %s, but %s; the bundle would not carry the whole fix, so "
		   "none was written",
		   f->type == STT_FUNC ? "function" : "data object", f->name, src,
		   c->in->target ? c->in->target : c->in->new_code, what);
	if (!c->in->collect)
		return r;
	res->refused++;
	nv = realloc(res->unaccounted, (res->nunaccounted + 1) * sizeof(*nv));
	if (!nv || refusal_init(&ref, REFUSAL_INCOMPLETE, f->name, src, hp_err_msg(r)) < 0) {
		if (nv)
			res->unaccounted = nv;
		return hp_err(-ENOMEM, "out of memory");
	}
	res->unaccounted = nv;
	nv[res->nunaccounted++] = ref;
	return 0;
}

/* Is @f, which differs, inlined into a function the bundle replaces? */
static bool inlined_into_replaced(const struct check *c, const struct csym *f)
{
	for (size_t i = 0; i < c->in->ninlined; i++) {
		const char *callee = c->in->inlined[2 * i], *caller = c->in->inlined[2 * i + 1];

		if (strcmp(callee, f->name) != 0)
			continue;
		for (size_t k = 0; k < c->b.n; k++)
			if (c->b.v[k].type == STT_FUNC && c->b.v[k].replaced &&
			    strcmp(c->b.v[k].name, caller) == 0)
				return true;
	}
	return false;
}

static const char *cold_parent(const struct check *c, const struct csym *f, char *buf, size_t len)
{
	const char *cold = strstr(f->name, ".cold");

	if (!cold)
		return NULL;
	snprintf(buf, len, "%.*s", (int)(cold - f->name), f->name);
	for (size_t i = 0; i < c->b.n; i++)
		if (c->b.v[i].type == STT_FUNC && c->b.v[i].replaced &&
		    strcmp(c->b.v[i].name, buf) == 0 && strcmp(c->b.v[i].file, f->file) == 0)
			return buf;
	return NULL;
}

/* True when a function at @g's address (the symbols are sorted by address)
 * with @g's size is replaced by the bundle. */
static bool alias_replaced(const struct side *s, const struct csym *g)
{
	for (const struct csym *h = g; h > s->v && h[-1].addr == g->addr; h--)
		if (h[-1].type == STT_FUNC && h[-1].size == g->size && h[-1].replaced)
			return true;
	for (const struct csym *h = g + 1; h < s->v + s->n && h->addr == g->addr; h++)
		if (h->type == STT_FUNC && h->size == g->size && h->replaced)
			return true;
	return false;
}

static int check_functions(struct check *c)
{
	int r;

	for (size_t i = 0; i < c->b.n; i++) {
		struct csym *f = &c->b.v[i];

		if (f->type == STT_FUNC)
			f->replaced = bundle_replaces(&c->bun, f);
	}
	/* One function under several names at one address (libxml2's
	 * __internal_alias, glibc's __GI_ names): the jump the bundle puts
	 * there serves every name, so replacing one replaces all. */
	for (size_t i = 0; i < c->b.n; i++) {
		struct csym *f = &c->b.v[i];

		if (f->type == STT_FUNC && !f->replaced && alias_replaced(&c->b, f))
			f->replaced = true;
	}
	for (size_t i = 0; i < c->b.n; i++) {
		struct csym *f = &c->b.v[i];
		enum sameness v;
		char parent[512];

		if (f->type != STT_FUNC)
			continue;
		c->res->funcs++;
		c->current = i;
		if (f->peer < 0) {
			/* its users differ (they name it): they are what is accounted */
			c->res->only_new_funcs++;
			continue;
		}
		v = compare_code(c, &c->a.v[f->peer], f);
		if (v == SAME)
			continue;
		c->res->funcs_differ++;
		f->differs = true;
		if (f->replaced)
			c->res->replaced++;
		else if (v == LINES_ONLY)
			c->res->benign_lines++;
		else if (cold_parent(c, f, parent, sizeof(parent)))
			c->res->cold++;
		else if (inlined_into_replaced(c, f))
			c->res->inlined++;
		else if ((r = unaccounted(c, f, "the bundle does not replace it")) < 0)
			return r;
	}
	c->current = (size_t)-1;
	return 0;
}

static int check_objects(struct check *c)
{
	for (size_t i = 0; i < c->b.n; i++) {
		struct csym *o = &c->b.v[i];

		if (o->type != STT_OBJECT)
			continue;
		c->res->objects++;
		c->current = i;
		if (o->peer < 0) {
			c->res->only_new_objects++;
			object_hash(c, &c->b, o, 0);
			continue;
		}
		if (compare_data(c, &c->a.v[o->peer], o) == SAME)
			continue;
		c->res->objects_differ++;
		o->differs = true;
	}
	c->current = (size_t)-1;
	return 0;
}

/* Every user of the changed read-only object @i must be replaced, so that
 * it uses the bundle's copy: then it is carried. */
static int account_uses(struct check *c, size_t i)
{
	const struct csym *o = &c->b.v[i];
	char what[1024];

	for (size_t k = 0; k < c->nuses; k++) {
		const struct csym *u = &c->b.v[c->uses[k].from];

		if (c->uses[k].to != i || c->uses[k].from == i || u->replaced)
			continue;
		snprintf(what, sizeof(what), "%s %s, which uses it, is not replaced: it would go "
					     "on using the old value",
			 u->type == STT_FUNC ? "function" : "data object", u->name);
		return unaccounted(c, o, what);
	}
	c->res->carried++;
	return 0;
}

/* A changed read-only object is accounted for when the bundle carries its
 * new value and every user of it is replaced (so uses the copy). */
static int account_objects(struct check *c)
{
	for (size_t i = 0; i < c->b.n; i++) {
		const struct csym *o = &c->b.v[i];
		int r;

		if (o->type != STT_OBJECT || !o->differs)
			continue;
		if (is_version_object(o)) {
			c->res->benign_version++;
			continue;
		}
		if ((o->shflags & SHF_WRITE) && !o->relro)
			r = unaccounted(c, o, "it is writable data, which a live patch does not "
					      "rewrite");
		else if (!bundle_defines(&c->bun, o->name))
			r = unaccounted(c, o, "the bundle does not carry its new value");
		else
			r = account_uses(c, i);
		if (r < 0)
			return r;
	}
	return 0;
}

static void say(struct completeness_result *r)
{
	buf_printf(&r->explain,
		   "completeness check: %zu functions compared, %zu differ: %zu replaced, %zu "
		   "cold parts of replaced ones, %zu inlined into replaced ones, %zu benign "
		   "(only __LINE__ moved); %zu data objects compared, %zu differ: %zu carried, "
		   "%zu benign (version strings); %zu only in the fixed build",
		   r->funcs, r->funcs_differ, r->replaced, r->cold, r->inlined, r->benign_lines,
		   r->objects, r->objects_differ, r->carried, r->benign_version,
		   r->only_new_funcs + r->only_new_objects);
	if (r->refused)
		buf_printf(&r->explain, "; %zu unaccounted for, refused", r->refused);
	buf_printf(&r->explain, "\n");
}

void completeness_result_free(struct completeness_result *r)
{
	buf_free(&r->explain);
	for (size_t i = 0; i < r->nunaccounted; i++)
		refusal_free(&r->unaccounted[i]);
	free(r->unaccounted);
}

static void check_free(struct check *c)
{
	side_free(&c->a);
	side_free(&c->b);
	for (size_t i = 0; i < c->bun.nreplace; i++)
		free(c->bun.replace[i]);
	for (size_t i = 0; i < c->bun.ndefined; i++)
		free(c->bun.defined[i]);
	free(c->bun.replace);
	free(c->bun.defined);
	free(c->uses);
	if (c->ia)
		cs_free(c->ia, 1);
	if (c->ib)
		cs_free(c->ib, 1);
	if (c->ip)
		cs_free(c->ip, 1);
	if (c->cs)
		cs_close(&c->cs);
}

int completeness_check(const struct completeness_input *in, struct completeness_result *ret)
{
	struct check c = {.in = in, .res = ret, .current = (size_t)-1};
	int r;

	*ret = (struct completeness_result){0};
	if (cs_open(CS_ARCH_X86, CS_MODE_64, &c.cs) != CS_ERR_OK)
		return hp_err(-ENOTSUP, "capstone cannot disassemble x86-64");
	cs_option(c.cs, CS_OPT_DETAIL, CS_OPT_ON);
	c.ia = cs_malloc(c.cs);
	c.ib = cs_malloc(c.cs);
	c.ip = cs_malloc(c.cs);
	r = c.ia && c.ib && c.ip ? 0 : hp_err(-ENOMEM, "out of memory");
	if (r == 0)
		r = open_side(&c.a, in->old_code, in->old_syms);
	if (r == 0)
		r = open_side(&c.b, in->new_code, in->new_syms);
	if (r == 0 && in->patch_obj) /* none: the build found nothing to patch */
		r = read_bundle(&c.bun, in->patch_obj);
	if (r == 0) {
		r = pair_keys(&c);
		c.record = true;
	}
	if (r == 0) {
		r = check_functions(&c);
	}
	if (r == 0)
		r = check_objects(&c);
	if (r == 0)
		r = account_objects(&c);
	if (r == 0 && ret->nunaccounted)
		r = hp_err(-EINVAL, "%s", ret->unaccounted[0].reason);
	say(ret);
	check_free(&c);
	return r;
}
