/* SPDX-License-Identifier: MIT */
/*
 * Every location hotpatch uses, under one root (--root DIR or HOTPATCH_ROOT;
 * "/" by default), so tests never touch /etc or /var.
 */
#pragma once

#include <limits.h>

struct hp_paths {
	char root[PATH_MAX];
	char config_dir[PATH_MAX]; /* etc/hotpatch */
	char config[PATH_MAX];     /* etc/hotpatch/hotpatch.conf */
	char trusted[PATH_MAX];    /* etc/hotpatch/trusted.d */
	char store[PATH_MAX];      /* var/lib/hotpatch */
	char bundles[PATH_MAX];    /* var/lib/hotpatch/bundles */
	char objects[PATH_MAX];    /* var/lib/hotpatch/objects */
	char backups[PATH_MAX];    /* var/lib/hotpatch/backups */
	char state[PATH_MAX];      /* var/lib/hotpatch/state */
	char enabled[PATH_MAX];    /* var/lib/hotpatch/state/enabled: one file per id */
	char audit_log[PATH_MAX];  /* var/log/hotpatch/audit.log */
	char run[PATH_MAX];        /* run/hotpatch */
	char socket[PATH_MAX];     /* run/hotpatch/control.sock */
	/* var/lib/prometheus/node-exporter/hotpatch.prom: node_exporter's
	 * textfile collector reads its directory (Debian's default). */
	char metrics[PATH_MAX];
	char no_fix[PATH_MAX];     /* usr/share/hotpatch/no-fix: the build host's no-fix
				    * records, from packages (bundle/nofix.h) */
	char no_fix_local[PATH_MAX]; /* var/lib/hotpatch/no-fix: those `catch-up = build`
				      * made on this host */
};

/* @root: NULL to use $HOTPATCH_ROOT, or "/". */
int paths_init(const char *root);
const struct hp_paths *paths(void);
