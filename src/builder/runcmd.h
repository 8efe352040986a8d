/* SPDX-License-Identifier: MIT */
/* Running the compiler and other build tools. */
#pragma once

#include <stdbool.h>

struct runcmd_opts {
	const char *cwd;     /* NULL: inherit */
	char *const *envp;   /* NULL: inherit */
	const char *log;     /* append stdout+stderr here instead of inheriting */
	bool quiet;          /* discard output (when no log) */
};

/* Runs argv[0] (searched in PATH) and waits. Returns 0 on exit status 0,
 * otherwise a negative errno with a message naming the command. */
int runcmd(char *const argv[], const struct runcmd_opts *o);
