/* SPDX-License-Identifier: MIT */
/*
 * One operation over many processes: the object from the store, room on
 * the audit trail, the per-process operation across cores, a record of each
 * write, one durable append for all of them, then the commit policy.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "audit.h"
#include "clock.h"
#include "engine.h"
#include "pool.h"
#include "session.h"
#include "store.h"

struct run_state {
	const struct engine_run *run;
	struct engine_opts o;
	struct engine_result *res;
	const char *id;
};

static void one(pid_t pid, void *arg, struct engine_report *rep)
{
	struct run_state *s = arg;

	if (s->run->kind == ENGINE_REVERT)
		engine_revert(s->id, pid, &s->o, rep);
	else
		engine_apply(s->run->b, pid, &s->o, rep);
}

/* Every write into a process, and every failure to, is on record; processes
 * that were only looked at (skipped, already patched) are not. */
static void audit(const struct run_state *s, const struct engine_report *rep)
{
	if (rep->outcome == OUTCOME_SKIPPED || rep->outcome == OUTCOME_ALREADY ||
	    (rep->outcome == OUTCOME_FAILED && s->run->quiet_failures))
		return;
	audit_log(&(struct audit_event){
		.op = s->run->kind == ENGINE_REVERT ? "revert" : "apply",
		.result = outcome_name(rep->outcome),
		.patch_id = s->id,
		.manifest = s->run->b ? &s->run->b->manifest : NULL,
		.pid = rep->pid,
		.reason = rep->reason,
		.pause_us = rep->flip.attempts ? rep->flip.pause_ns / NSEC_PER_USEC : -1,
	});
}

static void done(const struct engine_report *rep, void *arg)
{
	struct run_state *s = arg;

	s->res->count[rep->outcome]++;
	audit(s, rep);
	if (s->run->on_report)
		s->run->on_report(rep, s->run->arg);
}

static void stage(const struct run_state *s)
{
	const unsigned *n = s->res->count;

	if (!s->run->stage)
		return;
	if (s->run->kind == ENGINE_APPLY && n[OUTCOME_PATCHED] + n[OUTCOME_ALREADY])
		engine_stage(s->id, s->run->b, true, &s->res->staging);
	else if (s->run->kind == ENGINE_REVERT && s->run->all)
		engine_stage(s->id, NULL, false, &s->res->staging);
}

int engine_run(const struct engine_run *run, struct engine_result *ret)
{
	char object[4096];
	struct run_state s = {.run = run, .o = run->o, .res = ret,
			      .id = run->kind == ENGINE_REVERT ? run->id : run->b->id};
	int r;

	*ret = (struct engine_result){0};
	snprintf(ret->staging.id, sizeof(ret->staging.id), "%s", s.id);
	if (run->kind == ENGINE_APPLY) {
		/* The engine maps the stored object, never a caller's copy: the
		 * object a process maps is the one the store keeps. */
		r = store_save_bundle(run->b);
		if (r == 0)
			r = store_object(run->b, object, sizeof(object));
		if (r < 0)
			return r;
		s.o.object_path = object;
	}
	/* Nothing is written into a process that cannot be recorded. */
	if (audit_reserve(run->npids) < 0)
		return hp_err_prefix(-EIO, "refusing to change any process: ");
	r = pool_run(run->pids, run->npids, run->jobs ? run->jobs : pool_default_jobs(), one, done,
		     &s);
	/* One durable append for the whole operation, whatever its size. */
	if (!run->sync_later)
		audit_sync();
	if (r < 0)
		return r;
	stage(&s);
	return 0;
}
