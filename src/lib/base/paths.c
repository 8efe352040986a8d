/* SPDX-License-Identifier: MIT */
#include "paths.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "fileio.h"

static struct hp_paths p;

static int join(char *out, const char *root, const char *rel)
{
	int n = snprintf(out, PATH_MAX, "%s/%s", strcmp(root, "/") == 0 ? "" : root, rel);

	return n < 0 || n >= PATH_MAX ? -ENAMETOOLONG : 0;
}

int paths_init(const char *root)
{
	const char *env = getenv("HOTPATCH_ROOT");
	char *abs = NULL;
	int r = 0;

	if (!root)
		root = env && *env ? env : "/";
	abs = realpath(root, NULL);
	if (!abs && errno == ENOENT && mkdir_p(root, 0755) == 0)
		abs = realpath(root, NULL);
	if (!abs)
		return hp_err(-errno, "cannot use root directory %s: %m", root);
	snprintf(p.root, sizeof(p.root), "%s", abs);
	free(abs);
	r |= join(p.config_dir, p.root, "etc/hotpatch");
	r |= join(p.config, p.root, "etc/hotpatch/hotpatch.conf");
	r |= join(p.trusted, p.root, "etc/hotpatch/trusted.d");
	r |= join(p.store, p.root, "var/lib/hotpatch");
	r |= join(p.bundles, p.root, "var/lib/hotpatch/bundles");
	r |= join(p.objects, p.root, "var/lib/hotpatch/objects");
	r |= join(p.backups, p.root, "var/lib/hotpatch/backups");
	r |= join(p.state, p.root, "var/lib/hotpatch/state");
	r |= join(p.enabled, p.root, "var/lib/hotpatch/state/enabled");
	r |= join(p.audit_log, p.root, "var/log/hotpatch/audit.log");
	r |= join(p.no_fix, p.root, "usr/share/hotpatch/no-fix");
	r |= join(p.no_fix_local, p.root, "var/lib/hotpatch/no-fix");
	r |= join(p.run, p.root, "run/hotpatch");
	r |= join(p.socket, p.root, "run/hotpatch/control.sock");
	r |= join(p.metrics, p.root, "var/lib/prometheus/node-exporter/hotpatch.prom");
	return r ? hp_err(-ENAMETOOLONG, "root directory path too long") : 0;
}

const struct hp_paths *paths(void)
{
	return &p;
}
