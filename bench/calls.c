/* SPDX-License-Identifier: MIT */
/*
 * The target of the call-overhead benchmark.
 *
 *   bench-calls        (then one request per line on stdin)
 *
 * f is the function a patch replaces; g is the same code and is never
 * patched. Each request "N" times N direct calls of f and N of g and answers
 * "F_NS G_NS", the nanoseconds per call of each. Between requests the process
 * sits in read(), which is when the benchmark applies and reverts the patch,
 * so the same process and the same loops are measured before, patched and
 * after revert. A request "0" exits.
 *
 * Everything is aligned to 64 bytes so that f and g, and the two loops, sit
 * the same way in cache lines and the branch predictor's view.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <time.h>

/* A real call every iteration: gcc's noipa also stops cloning and the
 * folding of f and g into one (-fipa-icf); clang does neither at -O2. */
#ifdef __clang__
#define BENCH_FN __attribute__((noinline, aligned(64)))
#else
#define BENCH_FN __attribute__((noipa, aligned(64)))
#endif

BENCH_FN long f(long x)
{
	return (x ^ 0x5555) * 3 + 1;
}

BENCH_FN long g(long x)
{
	return (x ^ 0x5555) * 3 + 1;
}

BENCH_FN long loop_f(long n)
{
	long acc = 0;

	for (long i = 0; i < n; i++)
		acc += f(i);
	return acc;
}

BENCH_FN long loop_g(long n)
{
	long acc = 0;

	for (long i = 0; i < n; i++)
		acc += g(i);
	return acc;
}

static double ns_per_call(long (*loop)(long), long n, volatile long *sink)
{
	struct timespec a, b;

	clock_gettime(CLOCK_MONOTONIC, &a);
	*sink += loop(n);
	clock_gettime(CLOCK_MONOTONIC, &b);
	return ((b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec)) / (double)n;
}

int main(void)
{
	volatile long sink = 0;
	char line[64];
	long n;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("ready\n");
	for (unsigned req = 0; fgets(line, sizeof(line), stdin) && (n = atol(line)) > 0; req++) {
		double tf, tg;

		/* Alternate the order, so neither loop always runs second
		 * (warmer caches, a later point in a frequency ramp). */
		if (req % 2) {
			tg = ns_per_call(loop_g, n, &sink);
			tf = ns_per_call(loop_f, n, &sink);
		} else {
			tf = ns_per_call(loop_f, n, &sink);
			tg = ns_per_call(loop_g, n, &sink);
		}
		printf("%.4f %.4f\n", tf, tg);
	}
	return 0;
}
