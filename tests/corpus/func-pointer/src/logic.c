/* SPDX-License-Identifier: MIT */
/* func-pointer: functions called through a table of pointers. The fix
 * changes one of them (op_pow) and the dispatcher, which now compares a
 * table entry with op_pow: in the patched code, op_pow must still be the
 * address the table holds, the original function's.
 *   OP A B -> calc(OP, A, B), OP one of add, mul, pow */
#include <stdio.h>
#include <string.h>

static int op_add(int a, int b)
{
	return a + b;
}

static int op_mul(int a, int b)
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

static const struct op {
	const char *name;
	int (*fn)(int, int);
} ops[] = {
	{"add", op_add},
	{"mul", op_mul},
	{"pow", op_pow},
};

__attribute__((noinline)) static const char *calc(const char *name, int a, int b)
{
	static char out[32];

	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		if (strcmp(ops[i].name, name) != 0)
			continue;
		snprintf(out, sizeof(out), "%d", ops[i].fn(a, b));
		return out;
	}
	return "no such operation";
}

const char *respond(const char *line)
{
	char name[8];
	int a, b;

	if (sscanf(line, "%7s %d %d", name, &a, &b) != 3)
		return "bad request";
	return calc(name, a, b);
}
