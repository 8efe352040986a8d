/* SPDX-License-Identifier: MIT */
/*
 * The record a loaded patch keeps inside the target process.
 *
 * Every patch object reserves `__hotpatch_record` in its RELRO data. When the
 * object is loaded, the record is filled with the bundle's identity and, for
 * each redirected function, the address of the jump, where it leads and the
 * bytes it replaced. The applied state is therefore readable from the process
 * itself (`/proc/PID/maps` shows the object, the record says what it did, and
 * the code bytes say whether it is active), so a killed tool or a restarted
 * daemon loses nothing. The record sits in a page that is relocated per
 * process anyway, so it costs no extra memory.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RECORD_MAGIC "HPREC001"
#define RECORD_HEADER_SIZE 64
#define RECORD_ENTRY_SIZE 40
#define RECORD_MAX_BYTES 16

struct record_entry {
	uint64_t addr;     /* where the jump is written */
	uint64_t new_addr; /* where it leads */
	uint8_t len;       /* bytes replaced (JUMP_SIZE: 5 on x86-64, 4 on arm64) */
	uint8_t prev[RECORD_MAX_BYTES]; /* bytes there before this patch */
};

struct record {
	uint8_t bundle_sha[32];
	uint64_t module_bias;
	uint64_t load_base;
	struct record_entry *e;
	size_t n;
};

static inline size_t record_size(size_t nfuncs)
{
	return RECORD_HEADER_SIZE + nfuncs * RECORD_ENTRY_SIZE;
}

/* Serialises into exactly record_size(r->n) bytes. */
void record_encode(const struct record *r, uint8_t *out);
/* Parses bytes read back from a process (untrusted). */
int record_decode(const uint8_t *p, size_t n, struct record *ret);
void record_free(struct record *r);

