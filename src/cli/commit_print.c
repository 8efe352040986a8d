/* SPDX-License-Identifier: MIT */
/* What commit and the engine's commit policy did, in words. */
#include <stdio.h>

#include "cli.h"
#include "commit.h"
#include "engine.h"

void cli_print_commit(FILE *f, const char *id, const char *name, const struct commit_report *rep)
{
	fprintf(f, "commit %s (%s): ", id, name);
	switch (rep->outcome) {
	case CO_DONE:
		fprintf(f, "committed: %s is now the fixed file; the original is kept in %s\n",
			rep->target, rep->backup);
		break;
	case CO_ALREADY:
		fprintf(f, "already committed: %s is the fixed file%s\n", rep->target,
			rep->have_backup ? ""
					 : " (hotpatch made no backup of it, so it cannot be "
					   "rolled back)");
		break;
	case CO_SUPERSEDED:
		fprintf(f, "superseded: %s\n", rep->reason);
		break;
	case CO_REFUSED:
		fprintf(f, "refused: %s\n", rep->reason);
		break;
	case CO_FAILED:
		fprintf(f, "failed: %s\n", rep->reason);
		break;
	}
	/* What dpkg knows of it: the package installed, or a file dpkg
	 * --verify reports changed. */
	if (rep->dpkg[0] && rep->outcome != CO_SUPERSEDED && rep->outcome != CO_REFUSED)
		fprintf(f, "  dpkg: %s\n", rep->dpkg);
}

void cli_print_staging(const struct engine_staging *st, bool json)
{
	FILE *out = json ? stderr : stdout;

	switch (st->outcome) {
	case STAGING_NONE:
		break;
	case STAGING_UNSIGNED:
		fprintf(out, "not staged for commit: the bundle is unsigned\n");
		break;
	case STAGING_REPLACED:
		fprintf(out, "not staged for commit: a package upgrade already replaced %s "
			     "(the processes are caught up)\n",
			st->target);
		break;
	case STAGING_STAGED:
		fprintf(out, "staged %s for commit at the next boot: %s gets the fixed file\n",
			st->id, st->target);
		break;
	case STAGING_COMMITTED:
		cli_print_commit(out, st->id, st->name, &st->commit);
		break;
	case STAGING_UNSTAGED:
		fprintf(out, "%s is no longer staged for commit\n", st->id);
		break;
	case STAGING_FAILED:
		cli_warn("%s", st->reason);
		break;
	}
}
