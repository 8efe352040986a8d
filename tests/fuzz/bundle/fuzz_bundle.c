/* SPDX-License-Identifier: MIT */
/*
 * Bundle files arrive from the network: the trailer split runs on every
 * byte, and with --insecure the header, section table, checksums and
 * manifest are parsed without a signature standing in front of them.
 */
#include <stdlib.h>

#include "bundle.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct bundle_load_opts o = {.insecure = true};
	struct bundle *b = NULL;
	const uint8_t *sig;
	size_t payload, sig_len;

	if (bundle_split(data, size, &payload, &sig, &sig_len) == 0 &&
	    (payload + sig_len > size || (sig && sig != data + payload)))
		abort();
	if (bundle_load_mem(data, size, &o, &b) == 0) {
		/* Every section must point into the payload it was cut from. */
		if (b->object < b->data || b->object + b->object_size > b->data + b->payload_size)
			abort();
		bundle_free(b);
	}
	return 0;
}
