/* SPDX-License-Identifier: MIT */
/* hotpatch audit verify: check the audit log's hash chain. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "audit.h"
#include "cli.h"
#include "error.h"
#include "paths.h"

int cmd_audit(int argc, char **argv)
{
	size_t lines = 0;
	int r;

	if (argc != 2 || strcmp(argv[1], "verify") != 0) {
		printf("Usage: hotpatch audit verify\n\n"
		       "Check that no line of the audit log was edited, removed or inserted, and\n"
		       "that the log was not truncated.\n");
		return argc == 2 && strcmp(argv[1], "--help") == 0 ? EXIT_OK : EXIT_REFUSED;
	}
	r = audit_verify(&lines);
	/* Unreadable is not tampered with: say which it is. */
	if (r == -EACCES || r == -EPERM) {
		fprintf(stderr, "hotpatch: cannot read the audit log %s: it is root's; run "
				"`hotpatch audit verify` with sudo\n",
			paths()->audit_log);
		return EXIT_REFUSED;
	}
	if (r < 0) {
		fprintf(stderr, "hotpatch: audit log %s FAILED verification: %s\n",
			paths()->audit_log, hp_err_msg(r));
		return EXIT_REFUSED;
	}
	printf("audit log %s is intact: %zu entries\n", paths()->audit_log, lines);
	return EXIT_OK;
}
