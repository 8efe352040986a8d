/* SPDX-License-Identifier: MIT */
/*
 * The bundle file (.hpb): one signed file that carries everything a patch
 * needs.
 *
 *   payload   = header | section table | sections (manifest, patch object,
 *               optional file update, optional explanation,
 *               optional verdict)
 *   signed    = payload | minisign signature text | trailer
 *   trailer   = "HPSIG001" | u64 length of the signature text |
 *               first 16 bytes of SHA-256(signature text)
 *
 * minisign leaves its first line ("untrusted comment") unauthenticated by
 * design; the trailer's checksum makes any changed byte of the signature
 * block a refused bundle too (a forger can recompute it, but that comment
 * is never trusted for anything).
 *
 * The signature covers the payload bytes exactly as they are in the file, so
 * `minisign -Vm` can check a bundle whose payload was cut out with
 * `hotpatch sign --detach`, and a signature made by `minisign -S` can be
 * attached. Nothing in the payload is parsed before the signature verified
 * (or --insecure was given for an unsigned bundle).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "debref.h"
#include "manifest.h"
#include "minisign.h"

#define BUNDLE_MAGIC "HPBUNDL1"
#define BUNDLE_SIG_MAGIC "HPSIG001"
#define BUNDLE_TRAILER_SIZE 32
#define BUNDLE_MAX_SIZE (512ULL << 20)
#define BUNDLE_ID_LEN 16

enum bundle_section {
	BUNDLE_SEC_MANIFEST = 1,
	BUNDLE_SEC_OBJECT = 2,
	BUNDLE_SEC_FILE_UPDATE = 3,
	BUNDLE_SEC_EXPLAIN = 4,
	BUNDLE_SEC_VERDICT = 5, /* the builder's decisions as data (verdict.h) */
	BUNDLE_SEC_DEBREF = 6,  /* the package the fixed file comes from (debref.h) */
};

struct bundle {
	uint8_t *data;
	size_t size;
	size_t payload_size;
	const uint8_t *sig; /* minisign signature text inside data, or NULL */
	size_t sig_len;
	uint8_t sha256[32]; /* of the payload */
	char id[BUNDLE_ID_LEN + 1];
	bool verified;     /* the signature checked out against a trusted key */
	char signer[MINISIGN_KEYID_HEX_LEN + 1];   /* key id (hex) of the signer, when verified */
	struct manifest manifest;
	const uint8_t *object;
	size_t object_size;
	const uint8_t *file_update;
	size_t file_update_size;
	const char *explain;
	size_t explain_len;
	const char *verdict;
	size_t verdict_len;
	bool has_debref; /* built with --upgrade-to, its fixed file Debian's own */
	struct debref debref;
};

/* Checks a signature over the payload; returns 0 when it verified against a
 * trusted key (and fills @ret_signer), or a negative errno with a message. */
typedef int (*bundle_verify_fn)(const uint8_t *payload, size_t payload_len, const uint8_t *sig,
				size_t sig_len, char ret_signer[MINISIGN_KEYID_HEX_LEN + 1], void *arg);

struct bundle_load_opts {
	bool insecure;           /* accept unsigned bundles (development only) */
	bundle_verify_fn verify; /* NULL: signed bundles cannot be checked */
	void *verify_arg;
};

int bundle_load(const char *path, const struct bundle_load_opts *o, struct bundle **ret);
int bundle_load_mem(const uint8_t *data, size_t size, const struct bundle_load_opts *o,
		    struct bundle **ret);
struct bundle *bundle_free(struct bundle *b);

/* Splits a file image into payload and signature without parsing the payload. */
int bundle_split(const uint8_t *data, size_t size, size_t *ret_payload, const uint8_t **ret_sig,
		 size_t *ret_sig_len);

struct bundle_parts {
	const struct manifest *manifest;
	const uint8_t *object;
	size_t object_size;
	const uint8_t *file_update;
	size_t file_update_size;
	const char *explain;
	const char *verdict; /* verdict_encode()'s text, or NULL */
	const char *debref;  /* debref_format()'s text, or NULL */
};

/* Writes an unsigned bundle atomically (temp file + rename). */
int bundle_write(const char *path, const struct bundle_parts *parts);
/* Writes @payload plus an attached signature atomically. */
int bundle_write_signed(const char *path, const uint8_t *payload, size_t payload_len,
			const char *sig, size_t sig_len);
