/* SPDX-License-Identifier: MIT */
/* func-table-FAIL: a table of function pointers, defined here and used by
 * calc() in logic.c. The fix points the table's "pow" entry to a new
 * function: only the table changes, and calc(), which reads it, does not.
 * Carrying op_mul alone would be half the fix; it must be refused. */
#include "table.h"

static int op_add(int a, int b)
{
	return a + b;
}

__attribute__((noinline)) static int op_mul(int a, int b)
{
	return a * b;
}

/* a to the power b; 1 for b < 0. */
__attribute__((noinline)) static int op_pow(int a, int b)
{
	int r = 1;

	if (b < 0)
		return 1;
	while (b-- > 0)
		r *= a;
	return r;
}

const struct op ops[3] = {
	{"add", op_add},
	{"mul", op_mul},
	{"pow", op_pow},
};
