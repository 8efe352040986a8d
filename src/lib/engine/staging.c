/* SPDX-License-Identifier: MIT */
/*
 * The commit policy that follows apply, enable, revert and disable (the
 * rules are in engine.h, above enum staging_outcome). It decides and records;
 * the cli prints what it decided.
 */
#include <stdio.h>
#include <string.h>

#include "audit.h"
#include "commitstate.h"
#include "config.h"
#include "elffile.h"
#include "engine.h"
#include "fixedfile.h"
#include "module.h"
#include "store.h"
#include "trust.h"

static void audit_commit(const struct bundle *b, const struct commit_report *rep, bool rollback)
{
	audit_log(&(struct audit_event){.op = rollback ? "rollback" : "commit",
					.result = commit_outcome_name(rep->outcome, rollback),
					.patch_id = b->id, .manifest = &b->manifest,
					.reason = rep->reason[0] ? rep->reason : rep->target,
					.pause_us = -1});
}

void engine_commit(const struct bundle *b, struct commit_report *rep)
{
	commit_bundle(b, rep);
	audit_commit(b, rep, false);
}

void engine_rollback(const struct bundle *b, struct commit_report *rep)
{
	commit_rollback(b, rep);
	audit_commit(b, rep, true);
}

bool engine_target_replaced(const struct bundle *b)
{
	uint8_t id[HP_BUILD_ID_MAX];
	size_t len = 0;

	if (module_path_build_id(b->manifest.target_path, id, &len) < 0) {
		hp_err_clear();
		return false;
	}
	return len && (len != b->manifest.build_id_len || memcmp(id, b->manifest.build_id, len));
}

static void stage_or_commit(const struct bundle *b, const struct hp_config *conf,
			    const struct commit_record *rec, struct engine_staging *st)
{
	snprintf(st->name, sizeof(st->name), "%s", b->manifest.name);
	snprintf(st->target, sizeof(st->target), "%s", b->manifest.target_path);
	if (!fixedfile_present(b) || conf->commit == COMMIT_NEVER ||
	    (rec->state != CS_NONE && rec->state != CS_STAGED))
		return;
	if (!b->verified) {
		st->outcome = STAGING_UNSIGNED;
		return;
	}
	if (engine_target_replaced(b)) {
		st->outcome = STAGING_REPLACED;
		return;
	}
	if (conf->commit == COMMIT_IMMEDIATELY) {
		engine_commit(b, &st->commit);
		st->outcome = STAGING_COMMITTED;
	} else if (rec->state == CS_NONE) {
		if (commitstate_set(b->id, CS_STAGED, b->manifest.target_path) < 0) {
			st->outcome = STAGING_FAILED;
			snprintf(st->reason, sizeof(st->reason), "%s", hp_err_msg(-EIO));
			return;
		}
		audit_log(&(struct audit_event){.op = "stage", .result = "ok", .patch_id = b->id,
						.manifest = &b->manifest, .pause_us = -1});
		st->outcome = STAGING_STAGED;
	}
}

/* @loaded: the bundle the operation verified and used, if any, so that
 * staging does not load and verify the stored copy a second time (40 % of
 * an apply's instructions); a commit itself always reads the stored copy. */
static void after_apply(const char *id, const struct bundle *loaded, struct engine_staging *st)
{
	struct bundle_load_opts lo = {.insecure = true, .verify = trust_verify_bundle};
	struct commit_record rec;
	struct hp_config conf = {0};
	struct bundle *stored = NULL;
	const struct bundle *b = loaded;
	char path[4096];

	if (config_load(&conf) < 0 || store_lookup(id, path, sizeof(path)) < 0 ||
	    commitstate_get(id, &rec) < 0)
		goto out;
	/* The same bytes as the stored copy (the id is their digest). */
	if (!b || strcmp(b->id, id) != 0 || conf.commit == COMMIT_IMMEDIATELY) {
		if (bundle_load(path, &lo, &stored) < 0)
			goto out;
		b = stored;
	}
	stage_or_commit(b, &conf, &rec, st);
out:
	hp_err_clear();
	bundle_free(stored);
	config_free(&conf);
}

static void after_revert(const char *id, struct engine_staging *st)
{
	struct commit_record rec;

	if (commitstate_get(id, &rec) < 0 || rec.state != CS_STAGED) {
		hp_err_clear();
		return;
	}
	if (commitstate_set(id, CS_NONE, NULL) < 0) {
		st->outcome = STAGING_FAILED;
		snprintf(st->reason, sizeof(st->reason), "%s", hp_err_msg(-EIO));
		return;
	}
	audit_log(&(struct audit_event){.op = "unstage", .result = "ok", .patch_id = id,
					.pause_us = -1});
	st->outcome = STAGING_UNSTAGED;
}

void engine_stage(const char *id, const struct bundle *loaded, bool enable,
		  struct engine_staging *ret)
{
	*ret = (struct engine_staging){.outcome = STAGING_NONE};
	snprintf(ret->id, sizeof(ret->id), "%s", id);
	if (enable)
		after_apply(id, loaded, ret);
	else
		after_revert(id, ret);
}

int engine_enable(const char *id, bool enable, struct engine_staging *ret)
{
	int r = store_set_enabled(id, enable);

	*ret = (struct engine_staging){.outcome = STAGING_NONE};
	if (r < 0)
		return r;
	audit_log(&(struct audit_event){.op = enable ? "enable" : "disable", .result = "ok",
					.patch_id = id, .pause_us = -1});
	engine_stage(id, NULL, enable, ret);
	return 0;
}
