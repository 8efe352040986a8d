/* SPDX-License-Identifier: MIT */
/*
 * Which signatures hotpatch trusts: minisign public keys in
 * etc/hotpatch/trusted.d (files named *.pub). A key file (or the directory) that is not
 * owned by root, or that group or others can write, is refused outright: a
 * key anyone can replace protects nothing.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "minisign.h"

/* A bundle_verify_fn: the signature text @sig over @payload must verify with
 * a trusted key. Fills @ret_signer with the key id. Errors: -ENOKEY the
 * signer is not trusted, -EKEYREJECTED the signature does not verify,
 * -EPERM a trusted key file is unsafe, -EBADMSG a malformed signature. */
int trust_verify_bundle(const uint8_t *payload, size_t len, const uint8_t *sig, size_t siglen,
			char ret_signer[17], void *arg);
/* All trusted keys; each file checked for owner and mode. */
int trust_load_keys(struct minisign_pub **ret, size_t *ret_n);
/* Checks owner and mode of an already opened key file or directory. */
int trust_check_file(int fd, const char *path);
