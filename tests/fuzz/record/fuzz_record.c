/* SPDX-License-Identifier: MIT */
/*
 * The record is read back from a process we do not trust. A decoded record
 * must survive a round trip through record_encode().
 */
#include <stdlib.h>
#include <string.h>

#include "record.h"

static bool same_entry(const struct record_entry *a, const struct record_entry *b)
{
	return a->addr == b->addr && a->new_addr == b->new_addr && a->len == b->len &&
	       memcmp(a->prev, b->prev, sizeof(a->prev)) == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct record r, r2;
	uint8_t *out;

	if (record_decode(data, size, &r) < 0)
		return 0;
	out = malloc(record_size(r.n));
	if (!out)
		abort();
	record_encode(&r, out);
	if (record_decode(out, record_size(r.n), &r2) < 0 || r2.n != r.n ||
	    memcmp(r2.bundle_sha, r.bundle_sha, 32) != 0 || r2.module_bias != r.module_bias ||
	    r2.load_base != r.load_base)
		abort();
	for (size_t i = 0; i < r.n; i++)
		if (!same_entry(&r.e[i], &r2.e[i]))
			abort();
	free(out);
	record_free(&r);
	record_free(&r2);
	return 0;
}
