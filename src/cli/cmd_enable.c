/* SPDX-License-Identifier: MIT */
/*
 * hotpatch enable / disable: which patches hotpatchd keeps applied. The
 * choice is persistent (state/enabled). With the daemon running it acts at
 * once (it is told to reconcile, and it also watches the store); without it,
 * the command applies or reverts everywhere itself, so the CLI works either
 * way.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "control.h"
#include "engine.h"
#include "error.h"
#include "paths.h"
#include "store.h"

static bool daemon_reconcile(void)
{
	char *reply = NULL;
	bool ok = control_request(paths()->socket, "reconcile", &reply) == 0 && reply &&
		  strstr(reply, "\"ok\":true");

	free(reply);
	return ok;
}

/* The id of a stored bundle, installing @arg first when it is a file; a
 * patch name names a stored bundle too, as for revert. */
static int resolve(const char *arg, char id[BUNDLE_ID_LEN + 1])
{
	struct bundle *b = NULL;
	char path[4096];
	int r;

	if (cli_looks_like_id(arg) && access(arg, F_OK) < 0) {
		r = store_lookup(arg, path, sizeof(path));
		if (r == 0)
			snprintf(id, BUNDLE_ID_LEN + 1, "%.*s", BUNDLE_ID_LEN,
				 strrchr(path, '/') + 1);
		return r;
	}
	if (access(arg, F_OK) < 0) {
		r = store_find_name(arg, id);
		return r == -ENOENT ? hp_err(-ENOENT, "no patch id, patch name or bundle file '%s'",
					     arg)
				    : r;
	}
	/* Never unsigned: hotpatchd would refuse it anyway. */
	r = cli_load_bundle(arg, false, &b);
	if (r == 0)
		r = store_save_bundle(b);
	if (r == 0)
		r = store_object(b, path, sizeof(path));
	if (r == 0)
		memcpy(id, b->id, BUNDLE_ID_LEN + 1);
	bundle_free(b);
	return r;
}

static int run(bool enable, int argc, char **argv)
{
	char id[BUNDLE_ID_LEN + 1];
	struct engine_staging st;
	int r;

	if (argc != 2 || argv[1][0] == '-') {
		printf("Usage: hotpatch %s (ID|NAME|BUNDLE)\n\n%s", enable ? "enable" : "disable",
		       enable ? "Keep a patch applied in every matching process, including ones "
				"started later\n(hotpatchd). A bundle file is installed first; it must be signed by a\n"
				"trusted key (hotpatchd never applies unsigned bundles).\n"
			      : "Stop keeping a patch applied, and revert it everywhere.\n");
		return argc == 2 && !strcmp(argv[1], "--help") ? EXIT_OK : EXIT_REFUSED;
	}
	r = cli_require_root(enable ? "enable" : "disable");
	if (r)
		return r;
	r = resolve(argv[1], id);
	if (r == 0)
		r = engine_enable(id, enable, &st);
	if (r < 0)
		return cli_refuse(r);
	cli_print_staging(&st, false);
	if (daemon_reconcile()) {
		printf("%s %s: hotpatchd %s\n", enable ? "enabled" : "disabled", id,
		       enable ? "applies it to every matching process, now and later"
			      : "reverts it everywhere");
		return EXIT_OK;
	}
	printf("%s %s (hotpatchd is not running: %s it now)\n", enable ? "enabled" : "disabled",
	       id, enable ? "applying" : "reverting");
	return cli_run_everywhere(!enable, id);
}

int cmd_enable(int argc, char **argv)
{
	return run(true, argc, argv);
}

int cmd_disable(int argc, char **argv)
{
	return run(false, argc, argv);
}
