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
	struct audit_summary sum;
	int r;

	if (argc != 2 || strcmp(argv[1], "verify") != 0) {
		printf("Usage: hotpatch audit verify\n\n"
		       "Check that no line of the audit log was edited, removed or inserted, and\n"
		       "that the log was not truncated. The chain is followed from the oldest\n"
		       "rotated file still there (audit.log.N, audit.log.N.gz) to audit.log.\n");
		return argc == 2 && strcmp(argv[1], "--help") == 0 ? EXIT_OK : EXIT_REFUSED;
	}
	r = audit_verify(&sum);
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
	printf("audit log %s is intact: %zu entries", paths()->audit_log, sum.lines);
	if (sum.files > 1)
		printf(" in %zu files (the log and its rotations)", sum.files);
	if (sum.rotated_away)
		printf("; the %zu entries before them were rotated away", sum.rotated_away);
	if (sum.after_head)
		printf("; the last %zu were written after the head record on disk (a power cut "
		       "just after them?)",
		       sum.after_head);
	printf("\n");
	return EXIT_OK;
}
