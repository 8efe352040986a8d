/* SPDX-License-Identifier: MIT */
/*   OP A B -> ops[OP](A, B), OP one of add, mul, pow */
#include <stdio.h>
#include <string.h>

#include "table.h"

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
