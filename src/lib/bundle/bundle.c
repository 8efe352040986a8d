/* SPDX-License-Identifier: MIT */
#include "bundle.h"

#include <inttypes.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "error.h"
#include "fileio.h"
#include "hex.h"
#include "macro.h"

#define HEADER_SIZE 32
#define SECTION_ENTRY_SIZE 56
#define MAX_SECTIONS 16

struct section_entry {
	uint32_t type;
	uint64_t offset;
	uint64_t size;
	uint8_t sha256[32];
};

int bundle_split(const uint8_t *data, size_t size, size_t *ret_payload, const uint8_t **ret_sig,
		 size_t *ret_sig_len)
{
	const uint8_t *trailer;
	uint8_t sum[32];
	struct cursor c;
	uint64_t sig_len;

	*ret_sig = NULL;
	*ret_sig_len = 0;
	*ret_payload = size;
	if (size < BUNDLE_TRAILER_SIZE)
		return 0;
	trailer = data + size - BUNDLE_TRAILER_SIZE;
	if (memcmp(trailer, BUNDLE_SIG_MAGIC, 8) != 0)
		return 0;
	c = cursor_init(trailer + 8, 8);
	sig_len = cur_u64(&c);
	if (sig_len == 0 || sig_len > 4096 || sig_len > size - BUNDLE_TRAILER_SIZE)
		return hp_err(-EBADMSG, "the bundle's signature trailer is corrupt; "
					"re-sign the bundle or get a fresh copy");
	*ret_payload = size - BUNDLE_TRAILER_SIZE - sig_len;
	crypto_hash_sha256(sum, data + *ret_payload, sig_len);
	if (memcmp(sum, trailer + 16, 16) != 0)
		return hp_err(-EBADMSG, "the bundle's signature block is corrupt (checksum "
					"mismatch); re-sign the bundle or get a fresh copy");
	*ret_sig = data + *ret_payload;
	*ret_sig_len = sig_len;
	return 0;
}

/* The header's last field checksums the header and the section table, so an
 * unsigned (--insecure) bundle with a damaged table is refused too. */
static uint64_t table_sum(const uint8_t *data, uint32_t nsec)
{
	crypto_hash_sha256_state st;
	uint8_t h[32];
	uint64_t v;

	crypto_hash_sha256_init(&st);
	crypto_hash_sha256_update(&st, data, HEADER_SIZE - 8);
	crypto_hash_sha256_update(&st, data + HEADER_SIZE, (size_t)nsec * SECTION_ENTRY_SIZE);
	crypto_hash_sha256_final(&st, h);
	memcpy(&v, h, sizeof(v));
	return v;
}

static int read_section_table(struct cursor *c, size_t payload, struct section_entry *sec,
			      uint32_t *ret_n)
{
	const uint8_t *start = c->p;
	uint64_t sum;
	uint32_t n;

	if (!cur_get(c, NULL, 8)) /* magic, checked by the caller */
		return -EBADMSG;
	if (cur_u32(c) != HEADER_SIZE)
		return -EPROTO;
	n = cur_u32(c);
	if (cur_u64(c) != payload || n == 0 || n > MAX_SECTIONS ||
	    (uint64_t)n * SECTION_ENTRY_SIZE > payload - HEADER_SIZE)
		return -EBADMSG;
	sum = cur_u64(c);
	if (sum != table_sum(start, n))
		return -EBADMSG;
	for (uint32_t i = 0; i < n; i++) {
		sec[i].type = cur_u32(c);
		cur_u32(c); /* flags */
		sec[i].offset = cur_u64(c);
		sec[i].size = cur_u64(c);
		cur_get(c, sec[i].sha256, 32);
		if (c->bad || sec[i].offset > payload || sec[i].size > payload - sec[i].offset ||
		    sec[i].offset < HEADER_SIZE + (uint64_t)n * SECTION_ENTRY_SIZE)
			return -EBADMSG;
		/* One of each type (or which one counts?), and no two sections
		 * sharing bytes. */
		for (uint32_t k = 0; k < i; k++)
			if (sec[k].type == sec[i].type ||
			    (sec[i].offset < sec[k].offset + sec[k].size &&
			     sec[k].offset < sec[i].offset + sec[i].size))
				return -EBADMSG;
	}
	*ret_n = n;
	return c->bad ? -EBADMSG : 0;
}

static int attach_section(struct bundle *b, const struct section_entry *s)
{
	const uint8_t *p = b->data + s->offset;
	uint8_t sha[32];

	/* The checksums guard unsigned (--insecure) bundles. A verified
	 * signature already covers every byte of the payload, sections and
	 * their checksums alike: hashing the sections again would only cost
	 * a second pass over the whole payload on every apply. */
	if (!b->verified) {
		crypto_hash_sha256(sha, p, s->size);
		if (sodium_memcmp(sha, s->sha256, 32) != 0)
			return hp_err(-EBADMSG, "bundle section %u is corrupt (checksum mismatch); "
						"get a fresh copy of the bundle",
				      s->type);
	}
	switch (s->type) {
	case BUNDLE_SEC_MANIFEST:
		return manifest_decode(p, s->size, &b->manifest);
	case BUNDLE_SEC_OBJECT:
		b->object = p;
		b->object_size = s->size;
		return 0;
	case BUNDLE_SEC_FILE_UPDATE:
		b->file_update = p;
		b->file_update_size = s->size;
		return 0;
	case BUNDLE_SEC_EXPLAIN:
		b->explain = (const char *)p;
		b->explain_len = s->size;
		return 0;
	case BUNDLE_SEC_VERDICT:
		b->verdict = (const char *)p;
		b->verdict_len = s->size;
		return 0;
	case BUNDLE_SEC_DEBREF:
		b->has_debref = true;
		return debref_parse((const char *)p, s->size, &b->debref);
	default:
		/* Unknown sections are signed data we do not need: skip. */
		return 0;
	}
}

static int parse_payload(struct bundle *b)
{
	struct section_entry sec[MAX_SECTIONS];
	struct cursor c;
	uint32_t n = 0;
	int r;

	if (b->payload_size < HEADER_SIZE || memcmp(b->data, BUNDLE_MAGIC, 8) != 0)
		return hp_err(-EBADMSG, "not a hotpatch bundle (bad magic)");
	c = cursor_init(b->data, b->payload_size);
	r = read_section_table(&c, b->payload_size, sec, &n);
	if (r == -EPROTO)
		return hp_err(r, "the bundle uses an unknown format version; upgrade hotpatch");
	if (r < 0)
		return hp_err(r, "the bundle's header is malformed");
	for (uint32_t i = 0; i < n; i++) {
		r = attach_section(b, &sec[i]);
		if (r < 0)
			return r;
	}
	if (!b->manifest.name)
		return hp_err(-EBADMSG, "the bundle has no manifest");
	if (!b->object)
		return hp_err(-EBADMSG, "the bundle has no patch object");
	return 0;
}

/* No signature trailer: an unsigned bundle, or a signed one cut short (or
 * with bytes changed at its end), which lost its trailer. The header's
 * payload size tells which; it is read only to word the refusal. */
static int check_unsigned_whole(const struct bundle *b)
{
	struct cursor c;
	uint64_t declared;

	/* Not a bundle at all (install /etc/passwd): say that, not "unsigned". */
	if (b->size < 8 || memcmp(b->data, BUNDLE_MAGIC, 8) != 0)
		return hp_err(-EBADMSG, "not a hotpatch bundle (bad magic)");
	if (b->size < 24)
		return 0;
	c = cursor_init(b->data + 16, 8);
	declared = cur_u64(&c);
	if (declared == b->size)
		return 0;
	return hp_err(-EBADMSG, "the bundle is truncated or corrupt: it has %zu bytes, its "
				"header promises %" PRIu64 " before any signature; get a fresh copy",
		      b->size, declared);
}

static int check_signature(struct bundle *b, const struct bundle_load_opts *o)
{
	int r;

	if (!b->sig) {
		r = check_unsigned_whole(b);
		if (r < 0)
			return r;
		if (o->insecure)
			return 0;
		return hp_err(-EPERM, "bundle is not signed; sign it with `hotpatch sign BUNDLE -k "
				      "KEY` (or pass --insecure for local development only)");
	}
	if (!o->verify) {
		if (o->insecure)
			return 0;
		return hp_err(-EPERM, "cannot check the bundle's signature here");
	}
	return o->verify(b->data, b->payload_size, b->sig, b->sig_len, b->signer, o->verify_arg);
}

int bundle_load_mem(const uint8_t *data, size_t size, const struct bundle_load_opts *o,
		    struct bundle **ret)
{
	struct bundle *b;
	int r;

	if (sodium_init() < 0)
		return hp_err(-ENOTSUP, "libsodium failed to initialise");
	b = calloc(1, sizeof(*b));
	if (!b)
		return hp_err(-ENOMEM, "out of memory");
	b->data = malloc(size ? size : 1);
	if (!b->data) {
		free(b);
		return hp_err(-ENOMEM, "out of memory");
	}
	memcpy(b->data, data, size);
	b->size = size;
	r = bundle_split(b->data, size, &b->payload_size, &b->sig, &b->sig_len);
	if (r < 0)
		goto fail;
	/* Trust first: not one byte of the payload is parsed before this. */
	r = check_signature(b, o);
	if (r < 0)
		goto fail;
	b->verified = b->sig && o->verify;
	crypto_hash_sha256(b->sha256, b->data, b->payload_size);
	hex_encode(b->sha256, BUNDLE_ID_LEN / 2, b->id);
	r = parse_payload(b);
	if (r < 0)
		goto fail;
	*ret = b;
	return 0;
fail:
	bundle_free(b);
	return r;
}

int bundle_load(const char *path, const struct bundle_load_opts *o, struct bundle **ret)
{
	_cleanup_free_ uint8_t *data = NULL;
	size_t size;
	int r;

	r = file_read_all(path, BUNDLE_MAX_SIZE, &data, &size);
	if (r < 0)
		return r;
	r = bundle_load_mem(data, size, o, ret);
	if (r < 0)
		return hp_err_prefix(r, "%s: ", path);
	return 0;
}

struct bundle *bundle_free(struct bundle *b)
{
	if (!b)
		return NULL;
	manifest_free(&b->manifest);
	free(b->data);
	free(b);
	return NULL;
}

static void put_section(struct buf *hdr, uint32_t type, uint64_t offset, const void *p,
			size_t n)
{
	uint8_t sha[32];

	crypto_hash_sha256(sha, p, n);
	buf_put_u32(hdr, type);
	buf_put_u32(hdr, 0);
	buf_put_u64(hdr, offset);
	buf_put_u64(hdr, n);
	buf_put(hdr, sha, sizeof(sha));
}

int bundle_write(const char *path, const struct bundle_parts *parts)
{
	struct buf man = {0}, out = {0};
	struct {
		uint32_t type;
		const void *p;
		size_t n;
	} secs[6];
	uint32_t nsec = 0;
	uint64_t off, total;
	int r;

	if (sodium_init() < 0)
		return hp_err(-ENOTSUP, "libsodium failed to initialise");
	manifest_encode(parts->manifest, &man);
	secs[nsec++] = (typeof(secs[0])){BUNDLE_SEC_MANIFEST, man.data, man.len};
	secs[nsec++] = (typeof(secs[0])){BUNDLE_SEC_OBJECT, parts->object, parts->object_size};
	if (parts->file_update)
		secs[nsec++] = (typeof(secs[0])){BUNDLE_SEC_FILE_UPDATE, parts->file_update,
						 parts->file_update_size};
	if (parts->explain)
		secs[nsec++] = (typeof(secs[0])){BUNDLE_SEC_EXPLAIN, parts->explain,
						 strlen(parts->explain)};
	if (parts->verdict && *parts->verdict)
		secs[nsec++] = (typeof(secs[0])){BUNDLE_SEC_VERDICT, parts->verdict,
						 strlen(parts->verdict)};
	if (parts->debref)
		secs[nsec++] = (typeof(secs[0])){BUNDLE_SEC_DEBREF, parts->debref,
						 strlen(parts->debref)};
	total = HEADER_SIZE + (uint64_t)nsec * SECTION_ENTRY_SIZE;
	for (uint32_t i = 0; i < nsec; i++)
		total += secs[i].n;
	buf_put(&out, BUNDLE_MAGIC, 8);
	buf_put_u32(&out, HEADER_SIZE);
	buf_put_u32(&out, nsec);
	buf_put_u64(&out, total);
	buf_put_u64(&out, 0); /* the table checksum, filled in below */
	off = HEADER_SIZE + (uint64_t)nsec * SECTION_ENTRY_SIZE;
	for (uint32_t i = 0; i < nsec; i++) {
		put_section(&out, secs[i].type, off, secs[i].p, secs[i].n);
		off += secs[i].n;
	}
	if (!out.oom) {
		uint64_t sum = table_sum(out.data, nsec);

		memcpy(out.data + HEADER_SIZE - 8, &sum, sizeof(sum));
	}
	for (uint32_t i = 0; i < nsec; i++)
		buf_put(&out, secs[i].p, secs[i].n);
	if (man.oom || out.oom)
		r = hp_err(-ENOMEM, "out of memory");
	else
		r = file_write_atomic(path, out.data, out.len, 0644);
	buf_free(&man);
	buf_free(&out);
	return r;
}

int bundle_write_signed(const char *path, const uint8_t *payload, size_t payload_len,
			const char *sig, size_t sig_len)
{
	struct buf out = {0};
	uint8_t sum[32];
	int r;

	crypto_hash_sha256(sum, (const uint8_t *)sig, sig_len);
	buf_put(&out, payload, payload_len);
	buf_put(&out, sig, sig_len);
	buf_put(&out, BUNDLE_SIG_MAGIC, 8);
	buf_put_u64(&out, sig_len);
	buf_put(&out, sum, 16);
	r = out.oom ? hp_err(-ENOMEM, "out of memory")
		    : file_write_atomic(path, out.data, out.len, 0644);
	buf_free(&out);
	return r;
}
