/* SPDX-License-Identifier: MIT */
/*
 * hotpatch status: what is applied where, read back from the processes
 * themselves (their maps, the records in their patch objects and their code
 * bytes), so it stays true after a tool was killed mid-operation.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "control.h"
#include "error.h"
#include "json.h"
#include "paths.h"
#include "patches.h"
#include "procfs.h"
#include "stale.h"
#include "store.h"

/* The layout of `status --json`: 1 added schema_version, hostname and
 * timestamp. */
#define STATUS_SCHEMA_VERSION 1

struct sighting {
	char id[BUNDLE_ID_LEN + 1];
	pid_t pid;
	char comm[32];
	size_t active, stacked, total;
	bool valid;
	char under[BUNDLE_ID_LEN + 1]; /* the patch stacked on it, if any */
};

struct status {
	struct sighting *v;
	size_t n;
};

/* Does @pid run @b's target from a file a package upgrade has replaced
 * since (stale.h)? Then the patch caught it up with the disk. */
static bool runs_replaced(pid_t pid, const struct bundle *b)
{
	struct stale_process sp = {0};
	bool found = false;

	if (!b || stale_scan(pid, &sp) < 0) {
		hp_err_clear();
		return false;
	}
	for (size_t i = 0; i < sp.n && !found; i++)
		found = sp.files[i].running_len == b->manifest.build_id_len &&
			memcmp(sp.files[i].running_id, b->manifest.build_id,
			       b->manifest.build_id_len) == 0;
	stale_process_free(&sp);
	return found;
}

static const char *state_of(const struct sighting *s, const struct bundle *b)
{
	if (!s->valid || s->active + s->stacked == 0)
		return "loaded";
	if (s->active + s->stacked != s->total)
		return "partial";
	return runs_replaced(s->pid, b) ? "caught-up" : "applied";
}

static bool maps_have_patch(const struct proc_maps *m)
{
	char id[BUNDLE_ID_LEN + 1];

	for (size_t i = 0; i < m->n; i++)
		if (patches_is_object_path(m->v[i].path, id))
			return true;
	return false;
}

static int add(struct status *st, const struct loaded_patch *lp, pid_t pid)
{
	struct sighting *nv = realloc(st->v, (st->n + 1) * sizeof(*nv));

	if (!nv)
		return -ENOMEM;
	st->v = nv;
	nv[st->n] = (struct sighting){.pid = pid, .active = lp->nactive, .stacked = lp->nstacked,
				      .total = lp->rec.n, .valid = lp->rec_valid};
	memcpy(nv[st->n].under, lp->under, sizeof(lp->under));
	memcpy(nv[st->n].id, lp->id, sizeof(lp->id));
	proc_comm(pid, nv[st->n].comm, sizeof(nv[st->n].comm));
	st->n++;
	return 0;
}

static void scan_pid(struct status *st, pid_t pid)
{
	struct proc_maps maps = {0};
	struct loaded_patch *lp = NULL;
	size_t n = 0;
	int memfd;

	if (proc_maps_read(pid, &maps) < 0 || !maps_have_patch(&maps))
		goto out;
	memfd = proc_mem_open(pid, false);
	if (memfd < 0)
		goto out;
	if (patches_scan(pid, memfd, &maps, &lp, &n) == 0)
		for (size_t i = 0; i < n; i++)
			add(st, &lp[i], pid);
	patches_free(lp, n);
	close(memfd);
out:
	hp_err_clear();
	proc_maps_free(&maps);
}

static struct bundle *stored_bundle(const char *id)
{
	struct bundle_load_opts lo = {.insecure = true};
	struct bundle *b = NULL;
	char path[4096];

	store_bundle_path(id, path, sizeof(path));
	if (access(path, R_OK) == 0 && bundle_load(path, &lo, &b) < 0)
		b = NULL;
	hp_err_clear();
	return b;
}

static bool first_of_id(const struct status *st, size_t i)
{
	for (size_t k = 0; k < i; k++)
		if (strcmp(st->v[k].id, st->v[i].id) == 0)
			return false;
	return true;
}

static void print_text(const struct status *st)
{
	if (!st->n) {
		printf("no patches are applied\n");
		return;
	}
	for (size_t i = 0; i < st->n; i++) {
		struct bundle *b;

		if (!first_of_id(st, i))
			continue;
		b = stored_bundle(st->v[i].id);
		printf("patch %s", st->v[i].id);
		if (b) {
			printf("  %s", b->manifest.name);
			for (size_t c = 0; c < b->manifest.ncves; c++)
				printf("  %s", b->manifest.cves[c]);
			printf("\n  target %s", b->manifest.target_path);
		}
		printf("\n");
		for (size_t k = i; k < st->n; k++) {
			const struct sighting *s = &st->v[k];

			if (strcmp(s->id, st->v[i].id) != 0)
				continue;
			printf("  %-8s pid %d (%s) %zu/%zu functions", state_of(s, b), s->pid,
			       s->comm, s->active + s->stacked, s->total);
			if (s->stacked)
				printf(" (%zu under patch %s, stacked on it; revert that one first "
				       "to revert this one)",
				       s->stacked, s->under);
			if (s->active + s->stacked != s->total)
				printf(" (interrupted; run apply or revert again)");
			printf("\n");
		}
		bundle_free(b);
	}
}

/* hotpatchd's view (enabled patches: patched, pending, excluded, failed) as
 * JSON (@request "status") or text ("status-text"), or NULL when it does not
 * run. */
static char *daemon_view(const char *request)
{
	char *reply = NULL;

	if (control_request(paths()->socket, request, &reply) < 0)
		return NULL;
	if (reply[0] == '{' && !strstr(reply, "\"patches\"")) {
		free(reply);
		return NULL;
	}
	if (reply[0] == '{')
		reply[strcspn(reply, "\n")] = '\0';
	for (size_t n = strlen(reply); n && reply[n - 1] == '\n'; n--)
		reply[n - 1] = '\0';
	return reply;
}

/* The id of each sighting, for the store's view of how many processes
 * carry each patch. */
static const char **sighting_ids(const struct status *st)
{
	const char **ids = calloc(st->n + 1, sizeof(*ids));

	for (size_t i = 0; ids && i < st->n; i++)
		ids[i] = st->v[i].id;
	return ids;
}

static void print_json(const struct status *st, const char *daemon, bool stored)
{
	struct json j = {0};
	char host[256] = "", when[32] = "";
	time_t now = time(NULL);
	struct tm tm;

	/* For collectors that gather it from many hosts: which host, when,
	 * and which layout (raised when a field changes meaning or goes). */
	gethostname(host, sizeof(host) - 1);
	if (gmtime_r(&now, &tm))
		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	json_obj_begin(&j);
	json_kv_int(&j, "schema_version", STATUS_SCHEMA_VERSION);
	json_kv_str(&j, "hostname", host);
	json_kv_str(&j, "timestamp", when);
	if (daemon) {
		/* Already JSON: spliced in as the value of "daemon". */
		json_key(&j, "daemon");
		buf_printf(&j.out, "%s", daemon);
		j.after_key = false;
		j.need_comma[0] = true;
	}
	json_key(&j, "patches");
	json_arr_begin(&j);
	for (size_t i = 0; i < st->n; i++) {
		struct bundle *b;

		if (!first_of_id(st, i))
			continue;
		b = stored_bundle(st->v[i].id);
		json_obj_begin(&j);
		json_kv_str(&j, "id", st->v[i].id);
		if (b) {
			json_kv_str(&j, "name", b->manifest.name);
			json_kv_str(&j, "target", b->manifest.target_path);
			json_key(&j, "cves");
			json_arr_begin(&j);
			for (size_t c = 0; c < b->manifest.ncves; c++)
				json_str(&j, b->manifest.cves[c]);
			json_arr_end(&j);
		}
		json_key(&j, "processes");
		json_arr_begin(&j);
		for (size_t k = i; k < st->n; k++) {
			const struct sighting *s = &st->v[k];

			if (strcmp(s->id, st->v[i].id) != 0)
				continue;
			json_obj_begin(&j);
			json_kv_int(&j, "pid", s->pid);
			json_kv_str(&j, "comm", s->comm);
			json_kv_str(&j, "state", state_of(s, b));
			json_kv_int(&j, "active", (int64_t)s->active);
			json_kv_int(&j, "stacked", (int64_t)s->stacked);
			if (s->stacked)
				json_kv_str(&j, "under", s->under);
			json_kv_int(&j, "functions", (int64_t)s->total);
			json_obj_end(&j);
		}
		json_arr_end(&j);
		json_obj_end(&j);
		bundle_free(b);
	}
	json_arr_end(&j);
	if (stored) {
		const char **ids = sighting_ids(st);

		status_store_json(&j, ids, ids ? st->n : 0);
		free(ids);
	}
	json_obj_end(&j);
	printf("%s\n", json_text(&j));
	json_free(&j);
}

int cmd_status(int argc, char **argv)
{
	static const struct option opts[] = {
		{"pid", required_argument, NULL, 'p'},
		{"json", no_argument, NULL, 'j'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	struct status st = {0};
	pid_t pid = 0, *pids = NULL;
	char *daemon = NULL;
	size_t npids = 0;
	bool json = false;
	int c, r;

	while ((c = getopt_long(argc, argv, "p:h", opts, NULL)) != -1) {
		if (c == 'p') {
			if (cli_parse_pid(optarg, &pid) < 0)
				return cli_usage("'%s' is not a process id", optarg);
			if (!cli_process_exists(pid))
				return cli_usage("there is no process %d: give the pid of a running "
						 "process",
						 pid);
			continue;
		}
		if (c == 'j') {
			json = true;
			continue;
		}
		if (c == 'h') {
			printf("Usage: hotpatch status [--pid PID] [--json]\n");
			return EXIT_OK;
		}
		return cli_usage("bad option");
	}
	r = cli_require_ptrace("status");
	if (r)
		return r;
	if (pid)
		scan_pid(&st, pid);
	else if ((r = proc_list_pids(&pids, &npids)) < 0)
		return cli_refuse(r);
	for (size_t i = 0; i < npids; i++)
		scan_pid(&st, pids[i]);
	daemon = daemon_view(json ? "status" : "status-text");
	if (json) {
		print_json(&st, daemon, !pid);
	} else {
		if (daemon)
			printf("hotpatchd keeps these patches applied:\n%s\nin the processes now:\n",
			       daemon);
		print_text(&st);
		if (!pid) {
			const char **ids = sighting_ids(&st);

			status_store_text(ids, ids ? st.n : 0);
			free(ids);
		}
	}
	free(daemon);
	free(pids);
	free(st.v);
	return EXIT_OK;
}
