/* SPDX-License-Identifier: MIT */
/* hotpatch install / remove: the store of verified bundles. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audit.h"
#include "cli.h"
#include "commitstate.h"
#include "error.h"
#include "patches.h"
#include "paths.h"
#include "procfs.h"
#include "store.h"

int cmd_install(int argc, char **argv)
{
	static const struct option opts[] = {
		{"insecure", no_argument, NULL, 'I'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	struct bundle *b = NULL;
	bool insecure = false;
	int c, r;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (c == 'I')
			insecure = true;
		else if (c == 'h') {
			printf("Usage: hotpatch install BUNDLE\n\n"
			       "Verify a bundle's signature against trusted.d and copy it into the\n"
			       "store, where `apply ID`, `enable` and the daemon find it.\n");
			return EXIT_OK;
		} else
			return EXIT_REFUSED;
	}
	if (optind + 1 != argc)
		return cli_usage("install needs exactly one bundle");
	r = cli_require_root("install");
	if (r)
		return r;
	r = cli_load_bundle(argv[optind], insecure, &b);
	if (r < 0) {
		return cli_refuse_audited("install", argv[optind], r);
	}
	r = store_save_bundle(b);
	if (r == 0) {
		char obj[4096];

		r = store_object(b, obj, sizeof(obj));
	}
	if (r < 0) {
		bundle_free(b);
		return cli_refuse(r);
	}
	audit_log(&(struct audit_event){.op = "install", .result = "ok", .patch_id = b->id,
					.manifest = &b->manifest, .pause_us = -1});
	printf("installed %s (%s)%s\n", b->id, b->manifest.name,
	       b->verified ? "" : " UNSIGNED: the daemon will not use it");
	bundle_free(b);
	return EXIT_OK;
}

/* The processes that have the patch object mapped, in any state. */
static size_t users(const char *id, pid_t *first)
{
	pid_t *pids = NULL;
	size_t n = 0, count = 0;

	if (proc_list_pids(&pids, &n) < 0)
		return 0;
	for (size_t i = 0; i < n; i++) {
		struct proc_maps maps = {0};
		char got[BUNDLE_ID_LEN + 1];

		if (proc_maps_read(pids[i], &maps) < 0)
			continue;
		for (size_t k = 0; k < maps.n; k++)
			if (patches_is_object_path(maps.v[k].path, got) && strcmp(got, id) == 0) {
				if (!count++)
					*first = pids[i];
				break;
			}
		proc_maps_free(&maps);
	}
	hp_err_clear();
	free(pids);
	return count;
}

int cmd_remove(int argc, char **argv)
{
	char path[4096], obj[4096], id[BUNDLE_ID_LEN + 1];
	const char *base;
	bool had_backup = false;
	pid_t first = 0;
	size_t n;
	int r;

	if (argc != 2 || argv[1][0] == '-') {
		printf("Usage: hotpatch remove ID\n\nDelete a bundle from the store. Refused while "
		       "it is applied in any process.\n");
		return argc == 2 && strcmp(argv[1], "--help") == 0 ? EXIT_OK : EXIT_REFUSED;
	}
	r = cli_require_root("remove");
	if (r)
		return r;
	r = store_lookup(argv[1], path, sizeof(path));
	if (r < 0)
		return cli_refuse(r);
	base = strrchr(path, '/') + 1;
	snprintf(id, sizeof(id), "%.*s", BUNDLE_ID_LEN, base);
	n = users(id, &first);
	if (n) {
		r = hp_err(-EBUSY, "patch %s is applied in %zu process%s (pid %d%s); revert it "
				   "first",
			   id, n, n == 1 ? "" : "es", first, n > 1 ? ", ..." : "");
		audit_log(&(struct audit_event){.op = "remove", .result = "refused",
						.patch_id = id, .reason = hp_err_msg(r),
						.pause_us = -1});
		return cli_refuse(r);
	}
	snprintf(obj, sizeof(obj), "%s/%s.hpo", paths()->objects, id);
	if (unlink(path) < 0)
		return cli_refuse(hp_err(-errno, "cannot remove %s: %m", path));
	unlink(obj);
	/* A committed file stays fixed; without its bundle it can no longer be
	 * rolled back, so its backup and record go too. */
	if (commitstate_forget(id, &had_backup) < 0)
		cli_warn("%s", hp_err_msg(-EIO));
	audit_log(&(struct audit_event){.op = "remove", .result = "ok", .patch_id = id,
					.pause_us = -1});
	printf("removed %s%s\n", id,
	       had_backup ? " (its committed file stays; the backup of the original is deleted)"
			  : "");
	return EXIT_OK;
}
