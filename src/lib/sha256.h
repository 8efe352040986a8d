/* SPDX-License-Identifier: MIT */
/*
 * SHA-256 of a buffer, with the CPU's SHA extensions when it has them
 * (x86 SHA-NI), else libsodium's portable code. Every apply hashes its
 * bundle's payload (the id) and, unsigned, its sections: about 75 us for a
 * 15 KB bundle in libsodium's C, a tenth of that with the extensions.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

void sha256(uint8_t out[32], const void *data, size_t len);
/* Whether sha256() uses the CPU's SHA extensions on this machine. */
bool sha256_accelerated(void);
