/* SPDX-License-Identifier: MIT */
/* A vendored library's util.c: the same base name as the program's. */
static int limit(void)
{
	return 5000;
}

__attribute__((noinline)) int vend_len(int n)
{
	return n > limit() ? 0 : n;
}
