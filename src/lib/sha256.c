/* SPDX-License-Identifier: MIT */
#include "sha256.h"

#include <cpuid.h>
#include <immintrin.h>
#include <sodium.h>
#include <string.h>

static const uint32_t K[64] = {
	0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4,
	0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe,
	0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f,
	0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7,
	0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc,
	0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
	0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116,
	0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
	0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
	0xc67178f2,
};

/* The compression function over @n 64-byte blocks, with the SHA
 * instructions: each sha256rnds2 does two rounds, each sha256msg1/msg2 pair
 * four words of the message schedule. */
__attribute__((target("sha,sse4.1,ssse3"))) static void blocks_ni(uint32_t st[8],
								   const uint8_t *p, size_t n)
{
	const __m128i bswap = _mm_set_epi64x(0x0c0d0e0f08090a0bULL, 0x0405060700010203ULL);
	__m128i s0, s1, tmp, w[4];

	/* The state as the instructions want it: ABEF and CDGH. */
	tmp = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)&st[0]), 0xB1);
	s1 = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)&st[4]), 0x1B);
	s0 = _mm_alignr_epi8(tmp, s1, 8);
	s1 = _mm_blend_epi16(s1, tmp, 0xF0);
	for (; n; n--, p += 64) {
		__m128i abef = s0, cdgh = s1;

		for (int g = 0; g < 16; g++) {
			__m128i m, k;

			if (g < 4) {
				m = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(p + 16 * g)),
						     bswap);
			} else {
				m = _mm_sha256msg1_epu32(w[g & 3], w[(g + 1) & 3]);
				m = _mm_add_epi32(m, _mm_alignr_epi8(w[(g + 3) & 3], w[(g + 2) & 3], 4));
				m = _mm_sha256msg2_epu32(m, w[(g + 3) & 3]);
			}
			w[g & 3] = m;
			k = _mm_add_epi32(m, _mm_loadu_si128((const __m128i *)&K[4 * g]));
			s1 = _mm_sha256rnds2_epu32(s1, s0, k);
			s0 = _mm_sha256rnds2_epu32(s0, s1, _mm_shuffle_epi32(k, 0x0E));
		}
		s0 = _mm_add_epi32(s0, abef);
		s1 = _mm_add_epi32(s1, cdgh);
	}
	tmp = _mm_shuffle_epi32(s0, 0x1B);
	s1 = _mm_shuffle_epi32(s1, 0xB1);
	_mm_storeu_si128((__m128i *)&st[0], _mm_blend_epi16(tmp, s1, 0xF0));
	_mm_storeu_si128((__m128i *)&st[4], _mm_alignr_epi8(s1, tmp, 8));
}

static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static void sha256_ni(uint8_t out[32], const uint8_t *data, size_t len)
{
	uint32_t st[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
			  0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
	uint8_t tail[128] = {0};
	size_t full = len / 64, rest = len % 64, tail_len = rest < 56 ? 64 : 128;
	uint64_t bits = (uint64_t)len * 8;

	blocks_ni(st, data, full);
	/* The padding: 0x80, zeros, the length in bits, big-endian. */
	memcpy(tail, data + full * 64, rest);
	tail[rest] = 0x80;
	put_be32(tail + tail_len - 8, (uint32_t)(bits >> 32));
	put_be32(tail + tail_len - 4, (uint32_t)bits);
	blocks_ni(st, tail, tail_len / 64);
	for (int i = 0; i < 8; i++)
		put_be32(out + 4 * i, st[i]);
}

bool sha256_accelerated(void)
{
	static int have = -1; /* threads may race here: they all store the same */
	int v = __atomic_load_n(&have, __ATOMIC_RELAXED);
	unsigned a, b, c, d;

	if (v < 0) {
		/* SHA: leaf 7, EBX bit 29; SSSE3 and SSE4.1: leaf 1, ECX bits 9, 19. */
		v = __get_cpuid(1, &a, &b, &c, &d) && (c & (1u << 9)) && (c & (1u << 19)) &&
		    __get_cpuid_count(7, 0, &a, &b, &c, &d) && (b & (1u << 29));
		__atomic_store_n(&have, v, __ATOMIC_RELAXED);
	}
	return v;
}

void sha256(uint8_t out[32], const void *data, size_t len)
{
	if (sha256_accelerated())
		sha256_ni(out, data, len);
	else
		crypto_hash_sha256(out, data, len);
}
