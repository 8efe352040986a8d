#include <stdio.h>

/* respond() keeps m in %rcx and a in %rdx across the calls: GCC (-fipa-ra)
 * knows that this scale() changes only %rax. */
__attribute__((noinline)) long scale(long v, long by)
{
	if (by > 1000000)
		return -1;
	return v * by;
}

const char *respond(const char *line)
{
	static char out[64];
	long n;

	if (sscanf(line, "scale %ld", &n) != 1)
		return "?";
	long m = n * 7 + 3;
	long a = scale(m, 2);
	long b = scale(a, m);
	snprintf(out, sizeof(out), "%ld %ld", a + m, b);
	return out;
}
