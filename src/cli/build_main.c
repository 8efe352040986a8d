/* SPDX-License-Identifier: MIT */
/*
 * hotpatch-build: the builder, run by `hotpatch build` (build_exec.c) with
 * the same arguments. A program of its own so that hosts that only apply
 * signed bundles need no compiler and no libcapstone (the hotpatch-build
 * package).
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "debug.h"
#include "paths.h"

/* HOTPATCH_DEBUG=1: the engine's trace on stderr, one write per line
 * (worker threads trace at once). */
static void debug_line(const char *line)
{
	fprintf(stderr, "hotpatch[debug]: %s\n", line);
}

int main(int argc, char **argv)
{
	int r = paths_init(NULL); /* $HOTPATCH_ROOT, which hotpatch --root sets */

	hp_debug_set_sink(debug_line);
	if (r < 0)
		return cli_refuse(r);
	if (argc > 1 && strcmp(argv[1], "--version") == 0) {
		printf("hotpatch-build %s\n", HP_VERSION);
		return EXIT_OK;
	}
	return cmd_build(argc, argv);
}
