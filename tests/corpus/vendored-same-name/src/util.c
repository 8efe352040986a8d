/* SPDX-License-Identifier: MIT */
/* The program's own util.c. */
static int limit(void)
{
	return 1000;
}

__attribute__((noinline)) int check_len(int n)
{
	return n < 0 ? -1 : n > limit() ? -2 : n;
}
