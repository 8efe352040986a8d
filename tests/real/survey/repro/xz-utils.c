/* SPDX-License-Identifier: MIT */
/* fixes: liblzma-Make-lzma_lz_decoder_init-safe-to-reinit-after-al.patch liblzma-Clean-up-after-a-filter-chain-initialization-erro.patch
 * libs: -L{libdir} -l:{file}
 * fixed-package: liblzma5
 *
 * GHSA-5qpq-xqfv-j9pg (xz-utils 5.4.1-1+deb12u2): a .lzma decoder whose
 * dictionary allocation failed kept its old dictionary size with no buffer,
 * so reusing the lzma_stream for a file of that old size skipped the
 * allocation and wrote through a NULL buffer. Either fix of the pair closes
 * it: lz_decoder.c forgets the size before the allocation,
 * alone_decoder.c ends the filter chain on an init error.
 *
 * Decodes a .lzma file of a 1 MiB dictionary, then one of 2 MiB whose
 * dictionary allocation fails (our allocator), then the first again, all on
 * one lzma_stream. Says "ready", waits for a line on stdin (the survey
 * applies the live patch in between), then prints "fixed" (the third
 * decode gave the data back) or crashes (SIGSEGV) when vulnerable. */
#include <lzma.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BIG (2u << 20)

static int fail_big;

static void *alloc(void *opaque, size_t nmemb, size_t size)
{
	(void)opaque;
	if (fail_big && nmemb * size >= BIG)
		return NULL;
	return malloc(nmemb * size);
}

static void release(void *opaque, void *ptr)
{
	(void)opaque;
	free(ptr);
}

static const lzma_allocator allocator = { alloc, release, NULL };

static size_t encode(uint32_t dict, const uint8_t *in, size_t n, uint8_t *out, size_t cap)
{
	lzma_stream s = LZMA_STREAM_INIT;
	lzma_options_lzma opt;

	lzma_lzma_preset(&opt, 1);
	opt.dict_size = dict;
	if (lzma_alone_encoder(&s, &opt) != LZMA_OK)
		exit(3);
	s.next_in = in;
	s.avail_in = n;
	s.next_out = out;
	s.avail_out = cap;
	if (lzma_code(&s, LZMA_FINISH) != LZMA_STREAM_END)
		exit(3);
	lzma_end(&s);
	return cap - s.avail_out;
}

/* Decodes @n bytes of @in on @s; returns lzma_code's result. */
static lzma_ret decode(lzma_stream *s, const uint8_t *in, size_t n, uint8_t *out, size_t cap)
{
	lzma_ret ret = lzma_alone_decoder(s, UINT64_MAX);

	if (ret != LZMA_OK)
		return ret;
	s->next_in = in;
	s->avail_in = n;
	s->next_out = out;
	s->avail_out = cap;
	return lzma_code(s, LZMA_FINISH);
}

int main(void)
{
	static uint8_t data[4096], small[8192], big[8192], out[8192];
	lzma_stream s = LZMA_STREAM_INIT;
	char line[16];

	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 7 + i / 13);
	size_t ns = encode(1u << 20, data, sizeof(data), small, sizeof(small));
	size_t nb = encode(BIG, data, sizeof(data), big, sizeof(big));

	printf("ready\n");
	fflush(stdout);
	if (!fgets(line, sizeof(line), stdin))
		return 3;

	s.allocator = &allocator;
	if (decode(&s, small, ns, out, sizeof(out)) != LZMA_STREAM_END)
		return 4;
	fail_big = 1;
	if (decode(&s, big, nb, out, sizeof(out)) != LZMA_MEM_ERROR)
		return 5;
	fail_big = 0;
	memset(out, 0, sizeof(out));
	if (decode(&s, small, ns, out, sizeof(out)) != LZMA_STREAM_END ||
	    memcmp(out, data, sizeof(data)) != 0)
		return 6;
	printf("fixed\n");
	return 0;
}
