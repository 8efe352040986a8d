/* SPDX-License-Identifier: MIT */
/*
 * hotpatch.conf, in the config directory (etc/hotpatch under --root):
 * "key = value" lines, '#' comments. A missing file means the defaults. An
 * unknown key or a bad value is an error naming the line, so a typo never
 * silently changes policy. Documented in hotpatch.conf(5).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum commit_policy {
	COMMIT_AT_BOOT,
	COMMIT_IMMEDIATELY,
	COMMIT_NEVER,
};

/* What the apt hook does after an upgrade (`hotpatch catch-up`). */
enum catchup_mode {
	CATCHUP_LIST,  /* report the processes still running replaced code */
	CATCHUP_APPLY, /* and apply the installed bundles that fit them */
	CATCHUP_BUILD, /* and build the missing ones first, in the Pre hook */
};

struct strv {
	char **v;
	size_t n;
};

struct hp_config {
	bool boost;              /* boost = yes|no */
	int64_t boost_grace_ns;  /* boost-grace-us = N */
	enum commit_policy commit;
	enum catchup_mode catch_up; /* catch-up = list|apply|build */
	char *build_sources;        /* build-sources = DIR: .dsc files instead of apt */
	char *build_root;           /* build-root = DIR: build in it ("/": the host) */
	struct strv exclude_exe;    /* exclude-exe = PATH */
	struct strv exclude_unit;   /* exclude-unit = NAME.service */
	struct strv exclude_cgroup; /* exclude-cgroup = /PATH (prefix) */
	struct strv exclude_user;   /* exclude-user = NAME or UID */
};

void config_defaults(struct hp_config *c);
/* Loads paths()->config over the defaults. */
int config_load(struct hp_config *ret);
void config_free(struct hp_config *c);
