/* SPDX-License-Identifier: MIT */
/*
 * The 100 patchable functions of bench-target, f0..f99, written once so
 * that the target and the generated patches share the same body: a patch
 * then changes where the code lives, not what it does.
 *
 * Each body touches a volatile global and mixes in its index, so every
 * function is a real call target of about 40 bytes that the compiler can
 * neither inline into a constant nor fold into another (-fipa-icf).
 */
#pragma once

extern volatile long bench_sink;

#define BENCH_BODY(i)                                                                         \
	{                                                                                     \
		bench_sink += x;                                                              \
		return (x ^ (i)) * (2 * (i) + 3);                                             \
	}

/* BENCH_HUNDRED(M) expands M(0) ... M(99). */
#define BENCH_TEN(M, d) M(d##0) M(d##1) M(d##2) M(d##3) M(d##4) M(d##5) M(d##6) M(d##7) M(d##8) M(d##9)
#define BENCH_HUNDRED(M)                                                                      \
	BENCH_TEN(M, ) BENCH_TEN(M, 1) BENCH_TEN(M, 2) BENCH_TEN(M, 3) BENCH_TEN(M, 4)        \
	BENCH_TEN(M, 5) BENCH_TEN(M, 6) BENCH_TEN(M, 7) BENCH_TEN(M, 8) BENCH_TEN(M, 9)
