/* SPDX-License-Identifier: MIT */
/* switch-table: kind_name, linked after logic.c, whose fix moves it. */
#include <stdio.h>

/* A dense switch: GCC makes it a jump table in .rodata. */
__attribute__((noinline)) const char *kind_name(int k)
{
	static char buf[16];

	switch (k) {
	case 0: return "zero";
	case 1: snprintf(buf, sizeof(buf), "one%d", k); return buf;
	case 2: return "two";
	case 3: snprintf(buf, sizeof(buf), "three%d", k * 3); return buf;
	case 4: return "four";
	case 5: snprintf(buf, sizeof(buf), "five%d", k + 5); return buf;
	case 6: return "six";
	case 7: snprintf(buf, sizeof(buf), "seven%d", k * 7); return buf;
	case 8: return "eight";
	default: return "many";
	}
}

