/* SPDX-License-Identifier: MIT */
/*
 * hotpatch commit / rollback: make a patch permanent on disk, or undo that;
 * and the staging policy (`commit = at-boot | immediately | never` in
 * hotpatch.conf) that apply, enable, revert and disable follow:
 *
 * - a signed bundle that carries a fixed file is staged for commit when it
 *   is applied to a process or enabled (at-boot), committed right away
 *   (immediately), or left alone (never);
 * - only a bundle with no commit record is staged: one that was committed,
 *   superseded or rolled back stays so until `hotpatch commit ID` is asked
 *   for by name (a rollback is a decision, and the next boot must not
 *   silently undo it);
 * - `revert --all` and `disable` withdraw a staging: a patch taken out of
 *   every process is not wanted on disk either.
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

static void audit_result(const char *op, const struct bundle *b, const struct commit_report *rep)
{
	char reason[HP_ERR_MAX + PATH_MAX + 16];

	if (rep->reason[0])
		snprintf(reason, sizeof(reason), "%s", rep->reason);
	else
		snprintf(reason, sizeof(reason), "%s", rep->target);
	audit_log(&(struct audit_event){.op = op,
					.result = commit_outcome_name(rep->outcome,
								      !strcmp(op, "rollback")),
					.patch_id = b->id, .manifest = &b->manifest,
					.reason = reason, .pause_us = -1});
}

static void print_commit(FILE *f, const struct bundle *b, const struct commit_report *rep)
{
	fprintf(f, "commit %s (%s): ", b->id, b->manifest.name);
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
}

static int exit_code(enum commit_outcome o)
{
	return o == CO_REFUSED ? EXIT_REFUSED : o == CO_FAILED ? EXIT_FAILED : EXIT_OK;
}

static int commit_one(const struct bundle *b, FILE *out)
{
	struct commit_report rep;

	commit_bundle(b, &rep);
	audit_result("commit", b, &rep);
	print_commit(out, b, &rep);
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
	{
		char *args[] = {"apply", (char *)b->id, "--all", NULL};

		optind = 0;
		r = cmd_apply(3, args);
	}
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
	commit_rollback(b, &rep);
	audit_result("rollback", b, &rep);
	print_rollback(b, &rep);
	r = exit_code(rep.outcome);
	if ((rep.outcome == CO_DONE || rep.outcome == CO_ALREADY) && !no_apply) {
		int applied = reapply(b); /* not inside MAX(): it evaluates twice */

		r = MAX(r, applied);
	}
	bundle_free(b);
	return r;
}

/* --- the staging policy, for apply / enable / revert / disable ----------- */

void cli_commit_after_apply(const char *id, const struct bundle *loaded, bool json)
{
	FILE *out = json ? stderr : stdout;
	struct bundle_load_opts lo = {.insecure = true, .verify = trust_verify_bundle};
	struct commit_record rec;
	struct hp_config conf = {0};
	struct bundle *stored = NULL;
	const struct bundle *b = loaded;
	char path[PATH_MAX];

	if (config_load(&conf) < 0 || store_lookup(id, path, sizeof(path)) < 0 ||
	    commitstate_get(id, &rec) < 0)
		goto out;
	/* The same bytes as the stored copy (the id is their digest). What a
	 * commit writes comes from the stored copy, loaded and verified here. */
	if (!b || strcmp(b->id, id) != 0 || conf.commit == COMMIT_IMMEDIATELY) {
		if (bundle_load(path, &lo, &stored) < 0)
			goto out;
		b = stored;
	}
	if (!fixedfile_present(b) || conf.commit == COMMIT_NEVER ||
	    (rec.state != CS_NONE && rec.state != CS_STAGED))
		goto out;
	if (!b->verified) {
		fprintf(out, "not staged for commit: the bundle is unsigned\n");
		goto out;
	}
	if (cli_target_replaced(b)) {
		fprintf(out, "not staged for commit: a package upgrade already replaced %s "
			     "(the processes are caught up)\n", b->manifest.target_path);
		goto out;
	}
	if (conf.commit == COMMIT_IMMEDIATELY) {
		commit_one(b, out);
	} else if (rec.state == CS_NONE && commitstate_set(id, CS_STAGED,
							   b->manifest.target_path) == 0) {
		audit_log(&(struct audit_event){.op = "stage", .result = "ok", .patch_id = id,
						.manifest = &b->manifest, .pause_us = -1});
		fprintf(out, "staged %s for commit at the next boot: %s gets the fixed file\n", id,
			b->manifest.target_path);
	}
out:
	hp_err_clear();
	bundle_free(stored);
	config_free(&conf);
}

void cli_commit_after_revert(const char *id, bool json)
{
	struct commit_record rec;

	if (commitstate_get(id, &rec) < 0 || rec.state != CS_STAGED) {
		hp_err_clear();
		return;
	}
	if (commitstate_set(id, CS_NONE, NULL) < 0) {
		cli_warn("%s", hp_err_msg(-EIO));
		return;
	}
	audit_log(&(struct audit_event){.op = "unstage", .result = "ok", .patch_id = id,
					.pause_us = -1});
	fprintf(json ? stderr : stdout, "%s is no longer staged for commit\n", id);
}
