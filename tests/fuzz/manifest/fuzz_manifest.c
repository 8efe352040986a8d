/* SPDX-License-Identifier: MIT */
/*
 * The manifest decoder, fed directly so the fuzzer need not forge section
 * checksums. A decoded manifest must survive a round trip: encoding it and
 * decoding the result gives the same bytes again.
 */
#include <stdlib.h>
#include <string.h>

#include "manifest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct manifest m, m2;
	struct buf a = {0}, b = {0};

	if (manifest_decode(data, size, &m) < 0)
		return 0;
	manifest_encode(&m, &a);
	if (a.oom || manifest_decode(a.data, a.len, &m2) < 0)
		abort();
	manifest_encode(&m2, &b);
	if (b.oom || a.len != b.len || memcmp(a.data, b.data, a.len) != 0)
		abort();
	buf_free(&a);
	buf_free(&b);
	manifest_free(&m);
	manifest_free(&m2);
	return 0;
}
