/* SPDX-License-Identifier: MIT */
/*
 * hotpatch catch-up: after a package upgrade, the running processes that
 * still run the replaced code, and what can be done for each: caught up by
 * a live patch, a bundle missing, or a restart needed. cmd_catchup.c finds
 * and decides (and applies), catchup_report.c prints, catchup_hook.c is the
 * apt hook's two ends.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "bundle.h"
#include "changelog.h"
#include "config.h"
#include "engine.h"
#include "error.h"
#include "nofix.h"
#include "pkgindex.h"
#include "stale.h"
#include "verdict.h"

enum cu_action {
	CU_CAUGHT_UP,      /* every matching bundle is applied; none refused a fix */
	CU_PENDING,        /* a bundle is installed and not applied yet (--list) */
	CU_RESTART,        /* a fix was refused, or the apply failed */
	CU_MISSING,        /* no installed bundle for the running build */
	CU_NO_FIX,         /* no CVE between the versions, or the build host's no-fix
			    * record says no fix changes this build's code */
	CU_ACTION_MAX,
};

struct cu_bundle {
	struct bundle *b;
	struct verdict v;
};

struct cu_file {
	const struct stale_file *f;
	char package[128];
	char running[128];   /* "" when unknown */
	char installed[128]; /* "" when not installed any more */
	bool from_hook;      /* @running came from the apt hook's record */
	bool from_nofix;     /* @running came from the no-fix record */
	bool from_dbgsym;    /* @running came from a -dbgsym package's Build-Ids */
	bool has_nofix;      /* @nf: the build host found nothing to patch up to nf.to */
	struct nofix nf;
	bool cves_known;
	struct changelog_cves cves;
	size_t *bundles;     /* indexes into catchup.bundles */
	bool *carried;       /* per entry of @bundles: the process carries it */
	size_t nbundles;
	enum cu_action action;
	char reason[HP_ERR_MAX]; /* why a restart is needed, beyond refusals */
};

struct cu_proc {
	struct stale_process sp;
	char root[64]; /* /proc/PID/root */
	struct cu_file *files;
};

struct catchup {
	bool list, json;
	struct cu_bundle *bundles;
	size_t nbundles;
	struct cu_proc *procs;
	size_t nprocs;
	struct engine_opts eo;
	unsigned applied, failed;
};

const char *cu_action_name(enum cu_action a);
/* Needs no restart: caught up, or nothing changed in its code (a no-fix
 * record). */
bool cu_no_restart(const struct cu_file *cf);
/* Empty @c with the engine options hotpatch.conf gives; *ret_list: the
 * hook's mode is `catch-up = list`. */
int catchup_init(struct catchup *c, bool *ret_list);
/* Finds every process that runs a replaced file and decides its action;
 * with !c->list, applies the bundles that fit first. */
int catchup_run(struct catchup *c);
void catchup_free(struct catchup *c);

void catchup_print_text(const struct catchup *c, bool quiet_if_none);
void catchup_print_json(const struct catchup *c);
/* "mapping\tPATH" and "exe\tPATH" lines for needrestart's conf.d snippet:
 * the paths whose every stale process is caught up. */
void catchup_print_needrestart(const struct catchup *c);
/* The apt hook: "pre" (records what is about to be replaced; reads apt's
 * protocol version 3 on stdin) and "post" (catch-up in hotpatch.conf's
 * mode). Always 0: a hook never fails the apt run. */
int catchup_apt_hook(const char *phase);
/* `catch-up = build`, in the Pre hook: for each running build @v[0..n) the
 * hook recorded, build its live patch for the coming version (cached),
 * sign it with the host key and install it, or record "nothing to patch".
 * Each outcome is a line on stdout; a failed build fails nothing. */
int catchup_build(const struct hp_config *conf, const struct pkgindex_entry *v, size_t n);
