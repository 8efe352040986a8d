/* SPDX-License-Identifier: MIT */
/* The program's own util.c: a port number, or -1. */
__attribute__((noinline)) int port(int n)
{
	return n < 0 ? -1 : n;
}
