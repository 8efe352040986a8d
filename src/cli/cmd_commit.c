/* SPDX-License-Identifier: MIT */
/*
 * hotpatch commit / rollback: make a patch permanent on disk, or undo that.
 * The staging policy that apply, enable, revert and disable follow is the
 * engine's (src/lib/engine/staging.c).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audit.h"
#include "cli.h"
#include "engine.h"
#include "commit.h"
#include "commitstate.h"
#include "config.h"
#include "control.h"
#include "error.h"
#include "fixedfile.h"
#include "macro.h"
#include "paths.h"
#include "store.h"
#include "trust.h"

static int load_stored(const char *id, struct bundle **ret)
{
	struct bundle_load_opts lo = {.verify = trust_verify_bundle};
	char path[PATH_MAX];
	int r = store_lookup(id, path, sizeof(path));

	return r < 0 ? r : bundle_load(path, &lo, ret);
}

/* A bundle file (saved into the store: rollback finds it there), a stored
 * id, or a stored patch's name. */
static int resolve(const char *arg, bool insecure, struct bundle **ret)
{
	char id[BUNDLE_ID_LEN + 1];
	int r;

	if (!cli_looks_like_id(arg) && access(arg, F_OK) < 0) {
		r = store_find_name(arg, id);
		if (r == -ENOENT)
			return hp_err(r, "no patch id, patch name or bundle file '%s'", arg);
		if (r < 0)
			return r;
		arg = id;
	}
	r = cli_load_bundle(arg, insecure, ret);
	if (r == 0)
		r = store_save_bundle(*ret);
	return r;
}

static int exit_code(enum commit_outcome o)
{
	return o == CO_REFUSED ? EXIT_REFUSED : o == CO_FAILED ? EXIT_FAILED : EXIT_OK;
}

static int commit_one(const struct bundle *b, FILE *out)
{
	struct commit_report rep;

	engine_commit(b, &rep);
	cli_print_commit(out, b->id, b->manifest.name, &rep);
	return exit_code(rep.outcome);
}

static int commit_staged(void)
{
	struct hp_config conf;
	char **ids = NULL;
	size_t n = 0, staged = 0;
	int r, worst = EXIT_OK;

	r = config_load(&conf);
	if (r < 0)
		return cli_refuse(r);
	config_free(&conf);
	if (conf.commit == COMMIT_NEVER) {
		printf("commit policy is `never` (hotpatch.conf): nothing committed\n");
		return EXIT_OK;
	}
	r = commitstate_list(&ids, &n);
	if (r < 0)
		return cli_refuse(r);
	for (size_t i = 0; i < n; i++) {
		struct commit_record rec;
		struct bundle *b = NULL;

		if (commitstate_get(ids[i], &rec) < 0 || rec.state != CS_STAGED)
			continue;
		staged++;
		r = load_stored(ids[i], &b);
		if (r < 0) {
			fprintf(stdout, "commit %s: refused: %s\n", ids[i], hp_err_msg(r));
			cli_audit_refusal("commit", ids[i], r);
			worst = MAX(worst, EXIT_REFUSED);
		} else {
			int one = commit_one(b, stdout);

			worst = MAX(worst, one);
		}
		bundle_free(b);
	}
	for (size_t i = 0; i < n; i++)
		free(ids[i]);
	free(ids);
	if (!staged)
		printf("nothing is staged for commit\n");
	return worst;
}

static int commit_usage(int code)
{
	printf("Usage: hotpatch commit (ID|NAME|BUNDLE | --staged)\n\n"
	       "Make a patch permanent: replace its target file on disk with the fixed file\n"
	       "the bundle carries, when the file is exactly the original the patch was\n"
	       "built for. The original is kept in the store for `hotpatch rollback`.\n"
	       "Running processes keep their live patch; new ones load the fixed file.\n\n"
	       "  --staged     every patch staged for commit (the boot unit runs this)\n"
	       "  --insecure   accept an unsigned bundle (local development only)\n");
	return code;
}

int cmd_commit(int argc, char **argv)
{
	static const struct option opts[] = {
		{"staged", no_argument, NULL, 's'},
		{"insecure", no_argument, NULL, 'I'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	bool staged = false, insecure = false;
	struct bundle *b = NULL;
	int c, r;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (c == 's')
			staged = true;
		else if (c == 'I')
			insecure = true;
		else
			return commit_usage(c == 'h' ? EXIT_OK : EXIT_REFUSED);
	}
	if (staged == (optind + 1 == argc) || optind + 1 < argc)
		return cli_usage("commit needs one patch (ID, name or bundle) or --staged");
	r = cli_require_root("commit");
	if (r)
		return r;
	if (staged)
		return commit_staged();
	r = resolve(argv[optind], insecure, &b);
	if (r < 0) {
		return cli_refuse_audited("commit", argv[optind], r);
	}
	r = commit_one(b, stdout);
	bundle_free(b);
	return r;
}

static void print_rollback(const struct bundle *b, const struct commit_report *rep)
{
	printf("rollback %s (%s): ", b->id, b->manifest.name);
	switch (rep->outcome) {
	case CO_DONE:
		printf("rolled back: %s is the original file again\n", rep->target);
		break;
	case CO_ALREADY:
		printf("already rolled back: %s is the original file\n", rep->target);
		break;
	default:
		printf("%s: %s\n", commit_outcome_name(rep->outcome, true), rep->reason);
		break;
	}
	if (rep->dpkg[0] && rep->outcome == CO_DONE)
		printf("  dpkg: %s\n", rep->dpkg);
}

/* The original is on disk again, and processes started from now on load it:
 * the live patch protects them again. Processes that mapped the fixed file
 * need nothing (they are skipped: another build-id). */
static int reapply(const struct bundle *b)
{
	char *reply = NULL;
	int r;

	printf("re-applying the live patch to every process that runs the original:\n");
	fflush(stdout);
	r = cli_run_everywhere(false, b->id);
	/* hotpatchd watches the target's opens by inode: the restored file is
	 * a new one, so it needs to look again. */
	if (store_is_enabled(b->id) && control_request(paths()->socket, "reconcile", &reply) == 0)
		printf("hotpatchd keeps it applied to processes started later\n");
	else if (!store_is_enabled(b->id))
		printf("note: processes started later get the live patch only if it is enabled "
		       "(`hotpatch enable %s`)\n",
		       b->id);
	free(reply);
	return r;
}

int cmd_rollback(int argc, char **argv)
{
	static const struct option opts[] = {
		{"no-apply", no_argument, NULL, 'n'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	struct commit_report rep;
	struct bundle *b = NULL;
	bool no_apply = false;
	int c, r;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (c == 'n')
			no_apply = true;
		else {
			printf("Usage: hotpatch rollback (ID|NAME) [--no-apply]\n\n"
			       "Undo a commit: put the original file back from the store's backup\n"
			       "(crash-safe, owner, mode and attributes kept), then re-apply the live\n"
			       "patch to the processes that run the original (--no-apply: do not).\n");
			return c == 'h' ? EXIT_OK : EXIT_REFUSED;
		}
	}
	if (optind + 1 != argc)
		return cli_usage("rollback needs exactly one patch id or name");
	r = cli_require_root("rollback");
	if (r)
		return r;
	r = resolve(argv[optind], false, &b);
	if (r < 0) {
		return cli_refuse_audited("rollback", argv[optind], r);
	}
	engine_rollback(b, &rep);
	print_rollback(b, &rep);
	r = exit_code(rep.outcome);
	if ((rep.outcome == CO_DONE || rep.outcome == CO_ALREADY) && !no_apply) {
		int applied = reapply(b); /* not inside MAX(): it evaluates twice */

		r = MAX(r, applied);
	}
	bundle_free(b);
	return r;
}
