/* SPDX-License-Identifier: MIT */
#include "minisign.h"

#include <errno.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "error.h"

#define COMMENT_UNTRUSTED "untrusted comment: "
#define COMMENT_TRUSTED "trusted comment: "
#define LINES_MAX 4
#define LINE_MAX_LEN 2048
#define SEC_BLOB_LEN 158
#define SEC_ENC_OFF 54  /* key id | sk | checksum start here */
#define SEC_ENC_LEN 104

struct lines {
	char v[LINES_MAX][LINE_MAX_LEN];
	size_t n;
};

/* Splits up to LINES_MAX non-empty lines; refuses longer input. */
static int split_lines(const char *text, size_t len, struct lines *ret)
{
	size_t start = 0;

	ret->n = 0;
	for (size_t i = 0; i <= len; i++) {
		size_t l;

		if (i < len && text[i] != '\n')
			continue;
		l = i - start;
		if (l && text[start + l - 1] == '\r')
			l--;
		if (l) {
			if (ret->n == LINES_MAX || l >= LINE_MAX_LEN)
				return -EBADMSG;
			memcpy(ret->v[ret->n], text + start, l);
			ret->v[ret->n][l] = '\0';
			if (memchr(ret->v[ret->n], '\0', l))
				return -EBADMSG;
			ret->n++;
		}
		start = i + 1;
	}
	return 0;
}

static int b64_decode(const char *s, uint8_t *out, size_t want)
{
	size_t got = 0;

	if (sodium_base642bin(out, want, s, strlen(s), NULL, &got, NULL,
			      sodium_base64_VARIANT_ORIGINAL) != 0 ||
	    got != want)
		return -EBADMSG;
	return 0;
}

static char *b64_encode(const uint8_t *in, size_t n)
{
	size_t len = sodium_base64_encoded_len(n, sodium_base64_VARIANT_ORIGINAL);
	char *s = malloc(len);

	if (s)
		sodium_bin2base64(s, len, in, n, sodium_base64_VARIANT_ORIGINAL);
	return s;
}

static bool has_prefix(const char *s, const char *p)
{
	return strncmp(s, p, strlen(p)) == 0;
}

int minisign_parse_pub(const char *text, size_t len, struct minisign_pub *ret)
{
	struct lines l;
	uint8_t blob[42];

	if (sodium_init() < 0)
		return hp_err(-ENOTSUP, "libsodium failed to initialise");
	if (split_lines(text, len, &l) < 0 || l.n != 2 || !has_prefix(l.v[0], COMMENT_UNTRUSTED) ||
	    b64_decode(l.v[1], blob, sizeof(blob)) < 0 || memcmp(blob, "Ed", 2) != 0)
		return hp_err(-EBADMSG, "not a minisign public key");
	memcpy(ret->keyid, blob + 2, MINISIGN_KEYID_LEN);
	memcpy(ret->pk, blob + 10, 32);
	return 0;
}

static int decrypt_sec(uint8_t *blob, const char *password)
{
	uint8_t stream[SEC_ENC_LEN];
	uint64_t ops, mem;

	if (!password)
		return hp_err(-EACCES, "the secret key is encrypted; set HOTPATCH_KEY_PASSWORD");
	memcpy(&ops, blob + 38, 8);
	memcpy(&mem, blob + 46, 8);
	if (mem > (1ULL << 32) || ops > (1ULL << 32))
		return hp_err(-EBADMSG, "the secret key asks for absurd scrypt parameters");
	if (crypto_pwhash_scryptsalsa208sha256(stream, sizeof(stream), password, strlen(password),
					       blob + 6, ops, (size_t)mem) != 0)
		return hp_err(-ENOMEM, "scrypt failed (out of memory?)");
	for (size_t i = 0; i < SEC_ENC_LEN; i++)
		blob[SEC_ENC_OFF + i] ^= stream[i];
	sodium_memzero(stream, sizeof(stream));
	return 0;
}

/* BLAKE2b-256 over alg | key id | sk must match the stored checksum. */
static int check_sum(const uint8_t *blob)
{
	uint8_t chk[32], in[74];
	int r = 0;

	memcpy(in, blob, 2);
	memcpy(in + 2, blob + SEC_ENC_OFF, 8 + 64);
	crypto_generichash(chk, sizeof(chk), in, sizeof(in), NULL, 0);
	if (sodium_memcmp(chk, blob + SEC_ENC_OFF + 72, 32) != 0)
		r = hp_err(-EBADMSG, "the secret key's checksum is wrong (wrong password?)");
	sodium_memzero(in, sizeof(in));
	return r;
}

/* An Ed25519 secret key is seed | public key: the seed must derive it. */
static int check_halves(const uint8_t *sk)
{
	uint8_t pk[32], sk2[64];
	int r = 0;

	crypto_sign_seed_keypair(pk, sk2, sk);
	if (sodium_memcmp(pk, sk + 32, 32) != 0)
		r = hp_err(-EBADMSG, "the secret key is corrupt (its halves do not match)");
	sodium_memzero(sk2, sizeof(sk2));
	return r;
}

int minisign_parse_sec(const char *text, size_t len, const char *password,
		       struct minisign_sec *ret)
{
	uint8_t blob[SEC_BLOB_LEN];
	struct lines l;
	int r = 0;

	if (sodium_init() < 0)
		return hp_err(-ENOTSUP, "libsodium failed to initialise");
	if (split_lines(text, len, &l) < 0 || l.n != 2 || !has_prefix(l.v[0], COMMENT_UNTRUSTED) ||
	    b64_decode(l.v[1], blob, sizeof(blob)) < 0 || memcmp(blob, "Ed", 2) != 0 ||
	    memcmp(blob + 4, "B2", 2) != 0)
		return hp_err(-EBADMSG, "not a minisign secret key");
	if (memcmp(blob + 2, "Sc", 2) == 0) {
		r = decrypt_sec(blob, password);
		if (r == 0)
			r = check_sum(blob);
	} else if (blob[2] || blob[3])
		r = hp_err(-EBADMSG, "the secret key uses an unknown key derivation");
	else if (sodium_is_zero(blob + SEC_ENC_OFF + 72, 32))
		/* `minisign -G -W` leaves the checksum of an unencrypted key
		 * zero; check the key's halves agree instead. */
		r = check_halves(blob + SEC_ENC_OFF + 8);
	else
		r = check_sum(blob);
	if (r == 0) {
		memcpy(ret->keyid, blob + SEC_ENC_OFF, MINISIGN_KEYID_LEN);
		memcpy(ret->sk, blob + SEC_ENC_OFF + 8, 64);
	}
	sodium_memzero(blob, sizeof(blob));
	return r;
}

int minisign_parse_sig(const char *text, size_t len, struct minisign_sig *ret)
{
	struct minisign_sig sig = {0};
	uint8_t blob[74];
	struct lines l;
	const char *tc;

	if (sodium_init() < 0)
		return hp_err(-ENOTSUP, "libsodium failed to initialise");
	if (split_lines(text, len, &l) < 0 || l.n != 4 || !has_prefix(l.v[0], COMMENT_UNTRUSTED) ||
	    !has_prefix(l.v[2], COMMENT_TRUSTED) || b64_decode(l.v[1], blob, sizeof(blob)) < 0 ||
	    b64_decode(l.v[3], sig.global_sig, 64) < 0)
		return hp_err(-EBADMSG, "the signature is not in minisign format");
	if (memcmp(blob, "ED", 2) == 0)
		sig.prehashed = true;
	else if (memcmp(blob, "Ed", 2) != 0)
		return hp_err(-EBADMSG, "the signature uses an unknown algorithm");
	memcpy(sig.keyid, blob + 2, MINISIGN_KEYID_LEN);
	memcpy(sig.sig, blob + 10, 64);
	tc = l.v[2] + strlen(COMMENT_TRUSTED);
	if (strlen(tc) >= sizeof(sig.trusted))
		return hp_err(-EBADMSG, "the signature's trusted comment is too long");
	snprintf(sig.trusted, sizeof(sig.trusted), "%s", tc);
	*ret = sig;
	return 0;
}

int minisign_verify(const struct minisign_pub *pub, const struct minisign_sig *sig,
		    const uint8_t *msg, size_t len)
{
	uint8_t hash[crypto_generichash_BYTES_MAX];
	struct buf g = {0};
	int r = 0;

	if (memcmp(pub->keyid, sig->keyid, MINISIGN_KEYID_LEN) != 0)
		return -EKEYREJECTED;
	if (sig->prehashed) {
		crypto_generichash(hash, sizeof(hash), msg, len, NULL, 0);
		r = crypto_sign_verify_detached(sig->sig, hash, sizeof(hash), pub->pk);
	} else {
		r = crypto_sign_verify_detached(sig->sig, msg, len, pub->pk);
	}
	if (r != 0)
		return -EBADMSG;
	/* The trusted comment is signed too, together with the signature. */
	buf_put(&g, sig->sig, 64);
	buf_put(&g, sig->trusted, strlen(sig->trusted));
	r = g.oom ? -ENOMEM
		  : crypto_sign_verify_detached(sig->global_sig, g.data, g.len, pub->pk) ? -EBADMSG
											 : 0;
	buf_free(&g);
	return r;
}

int minisign_keygen(struct minisign_pub *pub, struct minisign_sec *sec)
{
	if (sodium_init() < 0)
		return hp_err(-ENOTSUP, "libsodium failed to initialise");
	crypto_sign_keypair(pub->pk, sec->sk);
	randombytes_buf(pub->keyid, MINISIGN_KEYID_LEN);
	memcpy(sec->keyid, pub->keyid, MINISIGN_KEYID_LEN);
	return 0;
}

void minisign_keyid_hex(const uint8_t keyid[MINISIGN_KEYID_LEN], char out[17])
{
	uint64_t v;

	memcpy(&v, keyid, 8);
	snprintf(out, 17, "%016" PRIX64, v);
}

char *minisign_format_pub(const struct minisign_pub *pub)
{
	uint8_t blob[42];
	char hex[17], *b64, *out = NULL;

	memcpy(blob, "Ed", 2);
	memcpy(blob + 2, pub->keyid, 8);
	memcpy(blob + 10, pub->pk, 32);
	b64 = b64_encode(blob, sizeof(blob));
	minisign_keyid_hex(pub->keyid, hex);
	if (b64 && asprintf(&out, "untrusted comment: minisign public key %s\n%s\n", hex, b64) < 0)
		out = NULL;
	free(b64);
	return out;
}

char *minisign_format_sec(const struct minisign_sec *sec)
{
	uint8_t blob[SEC_BLOB_LEN] = {0}, in[74];
	char *b64, *out = NULL;

	memcpy(blob, "Ed", 2);
	memcpy(blob + 4, "B2", 2);
	memcpy(blob + SEC_ENC_OFF, sec->keyid, 8);
	memcpy(blob + SEC_ENC_OFF + 8, sec->sk, 64);
	memcpy(in, blob, 2);
	memcpy(in + 2, blob + SEC_ENC_OFF, 72);
	crypto_generichash(blob + SEC_ENC_OFF + 72, 32, in, sizeof(in), NULL, 0);
	b64 = b64_encode(blob, sizeof(blob));
	if (b64 && asprintf(&out, "untrusted comment: minisign secret key (unencrypted, "
				  "made by hotpatch keygen)\n%s\n",
			    b64) < 0)
		out = NULL;
	sodium_memzero(blob, sizeof(blob));
	sodium_memzero(in, sizeof(in));
	if (b64)
		sodium_memzero(b64, strlen(b64));
	free(b64);
	return out;
}

char *minisign_sign(const struct minisign_sec *sec, const uint8_t *msg, size_t len,
		    const char *trusted)
{
	uint8_t hash[crypto_generichash_BYTES_MAX], blob[74], global[64];
	char *b64sig = NULL, *b64g = NULL, *out = NULL;
	struct buf g = {0};

	crypto_generichash(hash, sizeof(hash), msg, len, NULL, 0);
	memcpy(blob, "ED", 2);
	memcpy(blob + 2, sec->keyid, 8);
	crypto_sign_detached(blob + 10, NULL, hash, sizeof(hash), sec->sk);
	buf_put(&g, blob + 10, 64);
	buf_put(&g, trusted, strlen(trusted));
	if (g.oom)
		goto out;
	crypto_sign_detached(global, NULL, g.data, g.len, sec->sk);
	b64sig = b64_encode(blob, sizeof(blob));
	b64g = b64_encode(global, sizeof(global));
	if (b64sig && b64g &&
	    asprintf(&out, "untrusted comment: signature from hotpatch secret key\n%s\n"
			   "trusted comment: %s\n%s\n",
		     b64sig, trusted, b64g) < 0)
		out = NULL;
out:
	buf_free(&g);
	free(b64sig);
	free(b64g);
	return out;
}
