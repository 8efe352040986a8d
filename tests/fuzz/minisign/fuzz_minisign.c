/* SPDX-License-Identifier: MIT */
/*
 * Key and signature files are text anyone can hand us. The whole input goes
 * to each of the three parsers. Then it is read as SIG \0 PUB \0 MESSAGE (the
 * parsers refuse NUL bytes, so NUL is a separator they cannot see): when the
 * first two parts parse, the signature is checked over the message, which
 * reaches minisign_verify() with every field under the fuzzer's control.
 */
#include <string.h>

#include "minisign.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data, *end = text + size, *sig_end, *pub_end;
	struct minisign_pub pub;
	struct minisign_sec sec;
	struct minisign_sig sig;

	minisign_parse_sig(text, size, &sig);
	minisign_parse_pub(text, size, &pub);
	minisign_parse_sec(text, size, NULL, &sec);

	sig_end = memchr(text, '\0', size);
	if (!sig_end)
		return 0;
	pub_end = memchr(sig_end + 1, '\0', (size_t)(end - sig_end - 1));
	if (!pub_end)
		return 0;
	if (minisign_parse_sig(text, (size_t)(sig_end - text), &sig) == 0 &&
	    minisign_parse_pub(sig_end + 1, (size_t)(pub_end - sig_end - 1), &pub) == 0)
		minisign_verify(&pub, &sig, (const uint8_t *)pub_end + 1,
				(size_t)(end - pub_end - 1));
	return 0;
}
