/* SPDX-License-Identifier: MIT */
/*
 * minisign-compatible keys and signatures (Ed25519, libsodium).
 *
 *   public key:  "untrusted comment: ..." + base64("Ed" | key id[8] | pk[32])
 *   secret key:  "untrusted comment: ..." + base64("Ed" | kdf[2] | "B2" |
 *                salt[32] | opslimit[8] | memlimit[8] | key id[8] | sk[64] |
 *                checksum[32]); kdf "Sc" means the last 104 bytes are XORed
 *                with an scrypt stream of the password, kdf 0 means plain.
 *   signature:   "untrusted comment: ..." + base64(alg[2] | key id[8] | sig[64])
 *                + "trusted comment: TEXT" + base64(sig over sig[64] | TEXT)
 *                alg "ED": sig over BLAKE2b-512(message); "Ed": over message.
 *
 * So the real `minisign` tool can sign what hotpatch verifies and verify what
 * hotpatch signs. Every parser here takes bounded input and rejects anything
 * that does not match the format exactly.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MINISIGN_KEYID_LEN 8
/* A key id as hex text, without its NUL. */
#define MINISIGN_KEYID_HEX_LEN (2 * MINISIGN_KEYID_LEN)

struct minisign_pub {
	uint8_t keyid[MINISIGN_KEYID_LEN];
	uint8_t pk[32];
};

struct minisign_sec {
	uint8_t keyid[MINISIGN_KEYID_LEN];
	uint8_t sk[64];
};

struct minisign_sig {
	bool prehashed;
	uint8_t keyid[MINISIGN_KEYID_LEN];
	uint8_t sig[64];
	char trusted[1024];
	uint8_t global_sig[64];
};

int minisign_parse_pub(const char *text, size_t len, struct minisign_pub *ret);
/* @password may be NULL for an unencrypted key. */
int minisign_parse_sec(const char *text, size_t len, const char *password,
		       struct minisign_sec *ret);
int minisign_parse_sig(const char *text, size_t len, struct minisign_sig *ret);

/* 0 when @sig is a valid signature of @msg by @pub (both signatures). */
int minisign_verify(const struct minisign_pub *pub, const struct minisign_sig *sig,
		    const uint8_t *msg, size_t len);

int minisign_keygen(struct minisign_pub *pub, struct minisign_sec *sec);
/* Text of the key files; caller frees. The secret key is written unencrypted
 * (like `minisign -G -W`); protect it by file permissions. */
char *minisign_format_pub(const struct minisign_pub *pub);
char *minisign_format_sec(const struct minisign_sec *sec);
/* A prehashed ("ED") signature with @trusted as its trusted comment. */
char *minisign_sign(const struct minisign_sec *sec, const uint8_t *msg, size_t len,
		    const char *trusted);
/* Upper-case hex of the key id as minisign prints it (little-endian u64). */
void minisign_keyid_hex(const uint8_t keyid[MINISIGN_KEYID_LEN], char out[MINISIGN_KEYID_HEX_LEN + 1]);
