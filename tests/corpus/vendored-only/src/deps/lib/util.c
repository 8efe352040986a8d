/* SPDX-License-Identifier: MIT */
/* A vendored library's util.c: the same base name as the program's. */
__attribute__((noinline)) int vport(int n)
{
	return n & 0xffff;
}
