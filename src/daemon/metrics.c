/* SPDX-License-Identifier: MIT */
#include "metrics.h"

#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "bundle.h"
#include "json.h"
#include "view.h"

const char *facility_name(enum facility f)
{
	static const char *const names[] = {
		[FAC_FANOTIFY] = "fanotify",
		[FAC_CONNECTOR] = "process events connector",
		[FAC_FILTERS] = "seccomp filter reading",
	};

	return names[f];
}

const char *facility_fallback(enum facility f)
{
	static const char *const fallbacks[] = {
		[FAC_FANOTIFY] = "a library loaded later is found by the rescan every 10 s",
		[FAC_CONNECTOR] = "new processes are found by the rescan every 10 s",
		[FAC_FILTERS] = "processes with a seccomp filter are refused",
	};

	return fallbacks[f];
}

bool health_degraded(const struct health *h)
{
	for (int f = 0; f < FAC_COUNT; f++)
		if (h->blocked[f][0])
			return true;
	return false;
}

void health_json(const struct health *h, struct json *j)
{
	json_kv_str(j, "mode", health_degraded(h) ? "degraded" : "full");
	json_key(j, "blocked");
	json_arr_begin(j);
	for (int f = 0; f < FAC_COUNT; f++) {
		if (!h->blocked[f][0])
			continue;
		json_obj_begin(j);
		json_kv_str(j, "facility", facility_name(f));
		json_kv_str(j, "reason", h->blocked[f]);
		json_kv_str(j, "fallback", facility_fallback(f));
		json_obj_end(j);
	}
	json_arr_end(j);
}

void health_text(const struct health *h, struct buf *out)
{
	if (!health_degraded(h))
		return;
	buf_printf(out, "degraded mode:\n");
	for (int f = 0; f < FAC_COUNT; f++)
		if (h->blocked[f][0])
			buf_printf(out, "  %s blocked: %s\n    so %s\n", facility_name(f),
				   h->blocked[f], facility_fallback(f));
}

struct counts {
	size_t enabled, state[PS_FAILED + 1];
};

static struct counts count(const struct view *v)
{
	struct counts c = {0};

	for (size_t i = 0; i < v->n; i++) {
		c.enabled += !v->p[i].draining;
		for (size_t k = 0; k < v->p[i].n; k++)
			c.state[v->p[i].v[k].st]++;
	}
	return c;
}

void metrics_status(const struct view *v, const struct health *h, char *out, size_t size)
{
	struct counts c = count(v);
	int n = snprintf(out, size, "%zu patch%s enabled: %zu process%s patched, %zu pending, "
				    "%zu failed",
			 c.enabled, c.enabled == 1 ? "" : "es", c.state[PS_PATCHED],
			 c.state[PS_PATCHED] == 1 ? "" : "es", c.state[PS_PENDING],
			 c.state[PS_FAILED]);
	const char *sep = "; degraded, blocked: ";

	for (int f = 0; f < FAC_COUNT && n > 0 && (size_t)n < size; f++)
		if (h->blocked[f][0]) {
			n += snprintf(out + n, size - (size_t)n, "%s%s", sep, facility_name(f));
			sep = ", ";
		}
}

/* A label value: backslash, double quote and newline escaped. */
static void label(struct buf *out, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\' || *s == '"')
			buf_printf(out, "\\%c", *s);
		else if (*s == '\n')
			buf_printf(out, "\\n");
		else
			buf_printf(out, "%c", *s);
	}
}

static void header(struct buf *out, const char *name, const char *help)
{
	buf_printf(out, "# HELP %s %s\n# TYPE %s gauge\n", name, help, name);
}

static size_t in_state(const struct patch *p, enum pstate st)
{
	size_t n = 0;

	for (size_t k = 0; k < p->n; k++)
		n += p->v[k].st == st;
	return n;
}

/* A process that maps an enabled patch's target build and is not patched
 * runs a build with a known CVE unpatched (pending, excluded or failed). */
static bool unpatched(const struct view *v, pid_t pid)
{
	for (size_t i = 0; i < v->n; i++) {
		const struct pentry *e = NULL;

		for (size_t k = 0; k < v->p[i].n && !e; k++)
			if (v->p[i].v[k].pid == pid)
				e = &v->p[i].v[k];
		if (e && !v->p[i].draining && v->p[i].b && v->p[i].b->manifest.ncves &&
		    e->st != PS_PATCHED)
			return true;
	}
	return false;
}

static size_t vulnerable(const struct view *v)
{
	size_t n = 0;

	/* Counted once per process, at its first entry in the view. */
	for (size_t i = 0; i < v->n; i++)
		for (size_t k = 0; k < v->p[i].n; k++) {
			pid_t pid = v->p[i].v[k].pid;
			bool earlier = false;

			for (size_t j = 0; j < i && !earlier; j++)
				for (size_t m = 0; m < v->p[j].n && !earlier; m++)
					earlier = v->p[j].v[m].pid == pid;
			if (!earlier && unpatched(v, pid))
				n++;
		}
	return n;
}

static void per_patch(const struct view *v, struct buf *out)
{
	static const char *const states[] = {"patched", "pending", "excluded", "failed"};

	header(out, "hotpatch_patch_processes",
	       "Processes mapping the target build of an enabled patch, by state.");
	for (size_t i = 0; i < v->n; i++) {
		const struct patch *p = &v->p[i];

		for (int st = PS_PATCHED; st <= PS_FAILED; st++) {
			buf_printf(out, "hotpatch_patch_processes{patch=\"%s\",name=\"", p->id);
			label(out, p->b ? p->b->manifest.name : "");
			buf_printf(out, "\",state=\"%s\"} %zu\n", states[st],
				   in_state(p, (enum pstate)st));
		}
	}
	header(out, "hotpatch_patch_cve", "The CVEs each enabled patch fixes (always 1).");
	for (size_t i = 0; i < v->n; i++)
		for (size_t c = 0; v->p[i].b && c < v->p[i].b->manifest.ncves; c++) {
			buf_printf(out, "hotpatch_patch_cve{patch=\"%s\",cve=\"", v->p[i].id);
			label(out, v->p[i].b->manifest.cves[c]);
			buf_printf(out, "\"} 1\n");
		}
}

void metrics_prom(const struct view *v, const struct health *h, struct buf *out)
{
	struct counts c = count(v);
	size_t applied = 0, pending = 0, failed = 0;

	for (size_t i = 0; i < v->n; i++) {
		applied += in_state(&v->p[i], PS_PATCHED) > 0;
		pending += in_state(&v->p[i], PS_PENDING) > 0;
		failed += in_state(&v->p[i], PS_FAILED) > 0;
	}
	header(out, "hotpatch_patches", "Enabled patches; applied, pending, failed: those with "
					"at least one process in that state.");
	buf_printf(out, "hotpatch_patches{state=\"enabled\"} %zu\n", c.enabled);
	buf_printf(out, "hotpatch_patches{state=\"applied\"} %zu\n", applied);
	buf_printf(out, "hotpatch_patches{state=\"pending\"} %zu\n", pending);
	buf_printf(out, "hotpatch_patches{state=\"failed\"} %zu\n", failed);
	header(out, "hotpatch_processes_patched", "Processes with an enabled patch applied.");
	buf_printf(out, "hotpatch_processes_patched %zu\n", c.state[PS_PATCHED]);
	header(out, "hotpatch_processes_vulnerable",
	       "Processes running a build with a known CVE that is not patched in them.");
	buf_printf(out, "hotpatch_processes_vulnerable %zu\n", vulnerable(v));
	header(out, "hotpatch_last_apply_timestamp_seconds",
	       "When hotpatchd last patched a process (0: not since it started).");
	buf_printf(out, "hotpatch_last_apply_timestamp_seconds %lld\n", (long long)h->last_apply_s);
	header(out, "hotpatch_daemon_degraded",
	       "1 when hotpatchd runs without a host facility (see blocked).");
	buf_printf(out, "hotpatch_daemon_degraded %d\n", health_degraded(h));
	header(out, "hotpatch_daemon_blocked", "Host facilities hotpatchd runs without (1).");
	for (int f = 0; f < FAC_COUNT; f++)
		buf_printf(out, "hotpatch_daemon_blocked{facility=\"%s\"} %d\n", facility_name(f),
			   h->blocked[f][0] != 0);
	per_patch(v, out);
}
