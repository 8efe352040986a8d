/* SPDX-License-Identifier: MIT */
struct op {
	const char *name;
	int (*fn)(int, int);
};

extern const struct op ops[3];
