/* SPDX-License-Identifier: MIT */
/*
 * Bundle files arrive from the network: the trailer split runs on every
 * byte, and with --insecure the header, section table, checksums and
 * manifest are parsed without a signature standing in front of them.
 */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "bundle.h"

/* Checksums stop nearly every mutation at the first byte they cover, so each
 * input is loaded twice: as it is, and with its checksums made right, which
 * lets the fuzzer reach what lies behind them (the signature block, section
 * types, overlapping and repeated sections). The layout is bundle.c's, all
 * little-endian as on x86-64:
 *   trailer: magic | u64 signature length | SHA-256(signature)[0..16)
 *   header:  magic | u32 size | u32 count | u64 total | SHA-256(header[0..24)
 *            | table)[0..8), then per section u32 type | u32 flags |
 *            u64 offset | u64 size | SHA-256(section) */
static void fix_trailer(uint8_t *p, size_t size, size_t *ret_payload)
{
	uint8_t *trailer, sum[32];
	uint64_t sig_len;

	*ret_payload = size;
	if (size < BUNDLE_TRAILER_SIZE)
		return;
	trailer = p + size - BUNDLE_TRAILER_SIZE;
	memcpy(&sig_len, trailer + 8, 8);
	if (memcmp(trailer, BUNDLE_SIG_MAGIC, 8) != 0 || sig_len > size - BUNDLE_TRAILER_SIZE)
		return;
	*ret_payload = size - BUNDLE_TRAILER_SIZE - sig_len;
	crypto_hash_sha256(sum, p + *ret_payload, sig_len);
	memcpy(trailer + 16, sum, 16);
}

static void fix_checksums(uint8_t *p, size_t size)
{
	crypto_hash_sha256_state st;
	uint8_t sum[32];
	size_t payload;
	uint32_t n;

	fix_trailer(p, size, &payload);
	if (payload < 32)
		return;
	memcpy(&n, p + 12, 4);
	if (n > 16 || 32 + 56 * (size_t)n > payload)
		return;
	for (size_t i = 0; i < n; i++) {
		uint8_t *e = p + 32 + 56 * i;
		uint64_t off, len;

		memcpy(&off, e + 8, 8);
		memcpy(&len, e + 16, 8);
		if (off <= payload && len <= payload - off)
			crypto_hash_sha256(e + 24, p + off, len);
	}
	crypto_hash_sha256_init(&st);
	crypto_hash_sha256_update(&st, p, 24);
	crypto_hash_sha256_update(&st, p + 32, 56 * (size_t)n);
	crypto_hash_sha256_final(&st, sum);
	memcpy(p + 24, sum, 8);
}

static void load(const uint8_t *data, size_t size)
{
	const struct bundle_load_opts o = {.insecure = true};
	struct bundle *b;

	if (bundle_load_mem(data, size, &o, &b) < 0)
		return;
	/* Every section must point into the payload it was cut from. */
	if (b->object < b->data || b->object + b->object_size > b->data + b->payload_size)
		abort();
	bundle_free(b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *sig;
	size_t payload, sig_len;
	uint8_t *copy;

	if (bundle_split(data, size, &payload, &sig, &sig_len) == 0 &&
	    (payload + sig_len > size || (sig && sig != data + payload)))
		abort();
	load(data, size);
	copy = malloc(size ? size : 1);
	if (!copy)
		abort();
	memcpy(copy, data, size);
	fix_checksums(copy, size);
	load(copy, size);
	free(copy);
	return 0;
}
