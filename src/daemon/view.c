/* SPDX-License-Identifier: MIT */
#include "view.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "bundle.h"
#include "clock.h"
#include "engine.h"
#include "macro.h"
#include "json.h"
#include "procfs.h"

const char *pstate_name(enum pstate s)
{
	static const char *const names[] = {
		[PS_PATCHED] = "patched",
		[PS_PENDING] = "pending",
		[PS_EXCLUDED] = "excluded",
		[PS_FAILED] = "failed",
	};

	return names[s];
}

struct patch *view_patch(struct view *v, const char *id)
{
	for (size_t i = 0; i < v->n; i++)
		if (strcmp(v->p[i].id, id) == 0)
			return &v->p[i];
	return NULL;
}

struct patch *view_add(struct view *v, const char *id)
{
	struct patch *nv = realloc(v->p, (v->n + 1) * sizeof(*nv));

	if (!nv)
		return NULL;
	v->p = nv;
	nv[v->n] = (struct patch){0};
	memcpy(nv[v->n].id, id, sizeof(nv[v->n].id) - 1);
	return &nv[v->n++];
}

void view_remove(struct view *v, struct patch *p)
{
	size_t i = (size_t)(p - v->p);

	bundle_free(p->b);
	free(p->v);
	v->p[i] = v->p[--v->n];
}

struct pentry *view_entry(struct patch *p, pid_t pid, bool create)
{
	struct pentry *nv;

	for (size_t i = 0; i < p->n; i++)
		if (p->v[i].pid == pid)
			return &p->v[i];
	if (!create)
		return NULL;
	nv = realloc(p->v, (p->n + 1) * sizeof(*nv));
	if (!nv)
		return NULL;
	p->v = nv;
	nv[p->n] = (struct pentry){.pid = pid, .st = PS_PENDING, .seen_ns = now_ns()};
	return &nv[p->n++];
}

void view_drop(struct patch *p, pid_t pid)
{
	for (size_t i = 0; i < p->n; i++)
		if (p->v[i].pid == pid) {
			p->v[i] = p->v[--p->n];
			return;
		}
}

void view_drop_before(struct patch *p, pid_t pid, int64_t t_ns)
{
	struct pentry *e = view_entry(p, pid, false);

	if (e && e->seen_ns < t_ns)
		view_drop(p, pid);
}

void view_drop_pid(struct view *v, pid_t pid, int64_t t_ns)
{
	for (size_t i = 0; i < v->n; i++)
		view_drop_before(&v->p[i], pid, t_ns);
}

void view_free(struct view *v)
{
	while (v->n)
		view_remove(v, &v->p[v->n - 1]);
	free(v->p);
	*v = (struct view){0};
}

static void entries_json(const struct patch *p, enum pstate st, struct json *j)
{
	json_key(j, pstate_name(st));
	json_arr_begin(j);
	for (size_t i = 0; i < p->n; i++) {
		char comm[32];

		if (p->v[i].st != st)
			continue;
		proc_comm(p->v[i].pid, comm, sizeof(comm));
		json_obj_begin(j);
		json_kv_int(j, "pid", p->v[i].pid);
		json_kv_str(j, "comm", comm);
		if (p->v[i].reason[0])
			json_kv_str(j, st == PS_EXCLUDED ? "rule" : "reason", p->v[i].reason);
		json_obj_end(j);
	}
	json_arr_end(j);
}

void view_json(const struct view *v, struct json *j)
{
	json_key(j, "patches");
	json_arr_begin(j);
	for (size_t i = 0; i < v->n; i++) {
		const struct patch *p = &v->p[i];

		json_obj_begin(j);
		json_kv_str(j, "id", p->id);
		if (p->b) {
			json_kv_str(j, "name", p->b->manifest.name);
			json_kv_str(j, "target", p->b->manifest.target_path);
			json_key(j, "cves");
			json_arr_begin(j);
			for (size_t c = 0; c < p->b->manifest.ncves; c++)
				json_str(j, p->b->manifest.cves[c]);
			json_arr_end(j);
		}
		json_kv_bool(j, "enabled", !p->draining);
		for (int st = PS_PATCHED; st <= PS_FAILED; st++)
			entries_json(p, (enum pstate)st, j);
		json_obj_end(j);
	}
	json_arr_end(j);
}

static void entries_text(const struct patch *p, enum pstate st, struct buf *out)
{
	size_t count = 0;

	for (size_t i = 0; i < p->n; i++)
		count += p->v[i].st == st;
	if (!count)
		return;
	buf_printf(out, "  %s: %zu\n", pstate_name(st), count);
	for (size_t i = 0; i < p->n; i++) {
		char comm[32];

		if (p->v[i].st != st)
			continue;
		proc_comm(p->v[i].pid, comm, sizeof(comm));
		buf_printf(out, "    pid %d (%s)%s%s\n", p->v[i].pid, comm,
			   p->v[i].reason[0] ? ": " : "", p->v[i].reason);
	}
}

void view_text(const struct view *v, struct buf *out)
{
	if (!v->n)
		buf_printf(out, "no patch is enabled\n");
	for (size_t i = 0; i < v->n; i++) {
		const struct patch *p = &v->p[i];

		buf_printf(out, "patch %s", p->id);
		if (p->b) {
			buf_printf(out, "  %s", p->b->manifest.name);
			for (size_t c = 0; c < p->b->manifest.ncves; c++)
				buf_printf(out, "  %s", p->b->manifest.cves[c]);
			buf_printf(out, "\n  target %s", p->b->manifest.target_path);
		}
		buf_printf(out, "%s\n", p->draining ? "  (disabled: reverting everywhere)" : "");
		for (int st = PS_PATCHED; st <= PS_FAILED; st++)
			entries_text(p, (enum pstate)st, out);
	}
}

#define RETRY_MAX_NS (60 * NSEC_PER_SEC)

/* Short first (a library is mapped within milliseconds of an exec), then
 * longer (a thread busy in a function being replaced). */
static int64_t backoff_ns(unsigned tries, bool young)
{
	static const int64_t young_ms[] = {1, 2, 5, 10, 20, 50, 100, 200, 500, 1000};
	int64_t ms;

	if (young && tries < sizeof(young_ms) / sizeof(young_ms[0]))
		return young_ms[tries] * NSEC_PER_MSEC;
	ms = 1000LL << (tries < 6 ? tries : 6);
	return MIN(ms * NSEC_PER_MSEC, RETRY_MAX_NS);
}

void view_pend(struct pentry *e, const char *reason, bool young)
{
	e->st = PS_PENDING;
	e->queued = false;
	snprintf(e->reason, sizeof(e->reason), "%s", reason);
	e->next_ns = now_ns() + backoff_ns(e->tries++, young);
}

bool view_settle(struct pentry *e, const struct engine_report *rep, bool young)
{
	if (rep->outcome == OUTCOME_PATCHED || rep->outcome == OUTCOME_ALREADY) {
		e->st = PS_PATCHED;
		e->reason[0] = '\0';
	} else if (rep->err == -ETIMEDOUT || rep->err == -EBUSY || rep->err == -EAGAIN ||
		   rep->err == -ECHILD) {
		/* Transient: a thread in a replaced function, another tracer, or a
		 * worker that died (the engine leaves the process whole, so a
		 * second try is safe). */
		view_pend(e, rep->reason, false);
	} else if (young) {
		/* Caught between the exec and the end of the dynamic linker's
		 * work: a library the patch calls into is not mapped yet (or
		 * not even libc, whose syscall instruction the loader borrows).
		 * That is over within milliseconds; the bound keeps a real
		 * failure a failure. Found by the Debian package test. */
		view_pend(e, rep->reason, true);
	} else {
		e->st = PS_FAILED;
		snprintf(e->reason, sizeof(e->reason), "%s", rep->reason);
		return false;
	}
	return true;
}
