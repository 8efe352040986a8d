/* SPDX-License-Identifier: MIT */
/* hotpatch apply / revert: select processes, run the engine on each across
 * cores, print a line per process and a summary. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audit.h"
#include "clock.h"
#include "config.h"
#include "cli.h"
#include "engine.h"
#include "error.h"
#include "json.h"
#include "macro.h"
#include "procfs.h"
#include "store.h"

#define DEFAULT_TIMEOUT_NS (10 * NSEC_PER_SEC)
#define DEFAULT_STOP_BUDGET_NS (100 * NSEC_PER_MSEC)

struct op {
	bool revert;
	struct bundle *b;
	char id[BUNDLE_ID_LEN + 1];
	struct engine_opts eo;
	bool all, json, verbose, insecure;
	unsigned jobs;
	pid_t *pids;
	size_t npids;
	struct engine_result res;
	struct json j;
};

static void report_json(struct op *op, const struct engine_report *rep)
{
	json_obj_begin(&op->j);
	json_kv_int(&op->j, "pid", rep->pid);
	json_kv_str(&op->j, "comm", rep->comm);
	json_kv_str(&op->j, "result", outcome_name(rep->outcome));
	if (rep->reason[0])
		json_kv_str(&op->j, "reason", rep->reason);
	if (rep->flip.attempts) {
		json_kv_int(&op->j, "pause_us", rep->flip.pause_ns / NSEC_PER_USEC);
		json_kv_int(&op->j, "pause_max_us", rep->flip.pause_max_ns / NSEC_PER_USEC);
		json_kv_int(&op->j, "attempts", rep->flip.attempts);
		json_kv_int(&op->j, "threads", (int64_t)rep->flip.threads);
		json_kv_bool(&op->j, "boosted", rep->flip.boosted);
		json_kv_str(&op->j, "boost", rep->flip.boost);
		json_kv_int(&op->j, "threads_boosted", (int64_t)rep->flip.threads_boosted);
	}
	json_kv_int(&op->j, "functions", rep->nfuncs);
	json_kv_int(&op->j, "total_us", rep->total_ns / NSEC_PER_USEC);
	json_obj_end(&op->j);
}

static void report_text(struct op *op, const struct engine_report *rep)
{
	const char *verb = op->revert ? "reverted" : "patched";

	switch (rep->outcome) {
	case OUTCOME_PATCHED:
	case OUTCOME_REVERTED:
		printf("pid %d (%s): %s %u function%s, pause %lld us (%zu thread%s, %d attempt%s, "
		       "boost %s)\n",
		       rep->pid, rep->comm, verb, rep->nfuncs, rep->nfuncs == 1 ? "" : "s",
		       (long long)(rep->flip.pause_ns / NSEC_PER_USEC), rep->flip.threads,
		       rep->flip.threads == 1 ? "" : "s", rep->flip.attempts,
		       rep->flip.attempts == 1 ? "" : "s", rep->flip.boost ? rep->flip.boost : "off");
		break;
	case OUTCOME_ALREADY:
		printf("pid %d (%s): already patched\n", rep->pid, rep->comm);
		break;
	case OUTCOME_SKIPPED:
		if (!op->all || op->verbose)
			printf("pid %d (%s): skipped: %s\n", rep->pid, rep->comm, rep->reason);
		break;
	case OUTCOME_FAILED:
		printf("pid %d (%s): failed: %s\n", rep->pid, rep->comm, rep->reason);
		break;
	}
}

static void on_report(const struct engine_report *rep, void *arg)
{
	struct op *op = arg;

	if (op->json)
		report_json(op, rep);
	else
		report_text(op, rep);
	fflush(stdout);
}

static int collect_all(struct op *op)
{
	int r = proc_list_pids(&op->pids, &op->npids);

	return r < 0 ? cli_refuse(r) : 0;
}

static int add_pid(struct op *op, const char *s)
{
	pid_t *nv, pid;

	if (cli_parse_pid(s, &pid) < 0)
		return cli_usage("'%s' is not a process id", s);
	if (!cli_process_exists(pid))
		return cli_usage("there is no process %d: give the pid of a running process", pid);
	nv = realloc(op->pids, (op->npids + 1) * sizeof(*nv));
	if (!nv)
		return cli_usage("out of memory");
	op->pids = nv;
	nv[op->npids++] = pid;
	return 0;
}

static void usage(bool revert)
{
	if (revert)
		printf("Usage: hotpatch revert (ID|BUNDLE) (--pid PID... | --all) [options]\n\n"
		       "Undo a patch in running processes. Refuses while a thread runs patch code\n"
		       "and when another patch is stacked on top of it.\n\n");
	else
		printf("Usage: hotpatch apply (BUNDLE|ID) (--pid PID... | --all) [options]\n\n"
		       "Apply a bundle to running processes that map its exact target build.\n\n");
	printf("  -p, --pid PID     a target process (repeatable)\n"
	       "  -a, --all         every process that maps the target build\n"
	       "  --timeout DUR     give up on a process after DUR (default 10s)\n"
	       "  --stop-budget DUR one attempt's limit to stop every thread (default 100ms)\n"
	       "  -j, --jobs N      processes handled in parallel (default 2 x CPUs)\n"
	       "  --no-boost        stop threads without the brief real-time boost (also\n"
	       "                    `boost = no` in hotpatch.conf)\n"
	       "  --json            machine-readable output\n"
	       "  -v, --verbose     also list processes that were skipped\n");
	if (!revert)
		printf("  --replace         supersede every patch already applied to the same\n"
		       "                    target in one flip (for cumulative patches)\n"
		       "  --insecure        accept an unsigned bundle (local development only)\n");
}

static int parse(struct op *op, int argc, char **argv)
{
	static const struct option opts[] = {
		{"pid", required_argument, NULL, 'p'},
		{"all", no_argument, NULL, 'a'},
		{"timeout", required_argument, NULL, 't'},
		{"stop-budget", required_argument, NULL, 's'},
		{"jobs", required_argument, NULL, 'j'},
		{"json", no_argument, NULL, 'J'},
		{"verbose", no_argument, NULL, 'v'},
		{"replace", no_argument, NULL, 'R'},
		{"insecure", no_argument, NULL, 'I'},
		{"no-boost", no_argument, NULL, 'B'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	int c, r;

	while ((c = getopt_long(argc, argv, "p:aj:vh", opts, NULL)) != -1) {
		switch (c) {
		case 'p':
			r = add_pid(op, optarg);
			if (r)
				return r;
			break;
		case 'a':
			op->all = true;
			op->eo.skip_uninspectable = true;
			break;
		case 't':
			if (cli_parse_duration(optarg, &op->eo.timeout_ns) < 0)
				return cli_usage("bad --timeout '%s'", optarg);
			break;
		case 's':
			if (cli_parse_duration(optarg, &op->eo.stop_budget_ns) < 0)
				return cli_usage("bad --stop-budget '%s'", optarg);
			break;
		case 'j':
			op->jobs = (unsigned)atoi(optarg);
			break;
		case 'J':
			op->json = true;
			break;
		case 'v':
			op->verbose = true;
			break;
		case 'R':
			if (op->revert)
				return cli_usage("--replace is an apply option");
			op->eo.replace = true;
			break;
		case 'I':
			op->insecure = true;
			break;
		case 'B':
			op->eo.boost = false;
			break;
		case 'h':
			usage(op->revert);
			return CLI_DONE;
		default:
			return EXIT_REFUSED;
		}
	}
	if (optind + 1 != argc)
		return cli_usage("%s needs exactly one bundle or patch id",
				 op->revert ? "revert" : "apply");
	if (op->all == (op->npids > 0))
		return cli_usage("give either --pid PID... or --all");
	return 0;
}

static int resolve_target(struct op *op, const char *arg)
{
	struct bundle_load_opts lo = {.insecure = true};
	int r;

	if (!op->revert) {
		r = cli_load_bundle(arg, op->insecure, &op->b);
		if (r < 0) {
			return cli_refuse_audited("apply", arg, r);
		}
		memcpy(op->id, op->b->id, sizeof(op->id));
		return 0;
	}
	/* Revert needs only the id: the process holds everything else. */
	if (cli_looks_like_id(arg)) {
		snprintf(op->id, sizeof(op->id), "%s", arg);
		return 0;
	}
	if (access(arg, F_OK) < 0) {
		r = store_find_name(arg, op->id);
		if (r == -ENOENT)
			r = hp_err(-ENOENT, "no patch id, patch name or bundle file '%s'", arg);
		return r < 0 ? cli_refuse(r) : 0;
	}
	r = bundle_load(arg, &lo, &op->b);
	if (r < 0)
		return cli_refuse(r);
	memcpy(op->id, op->b->id, sizeof(op->id));
	return 0;
}

static int finish(struct op *op, int64_t t0)
{
	int64_t ms = (now_ns() - t0) / NSEC_PER_MSEC;
	const unsigned *n = op->res.count;
	unsigned done = op->revert ? n[OUTCOME_REVERTED] : n[OUTCOME_PATCHED];

	if (op->json) {
		json_arr_end(&op->j);
		json_key(&op->j, "summary");
		json_obj_begin(&op->j);
		json_kv_int(&op->j, op->revert ? "reverted" : "patched", done);
		json_kv_int(&op->j, "already", n[OUTCOME_ALREADY]);
		json_kv_int(&op->j, "skipped", n[OUTCOME_SKIPPED]);
		json_kv_int(&op->j, "failed", n[OUTCOME_FAILED]);
		json_kv_int(&op->j, "elapsed_ms", ms);
		json_obj_end(&op->j);
		json_obj_end(&op->j);
		printf("%s\n", json_text(&op->j));
	} else {
		printf("%s %s: %u %s, %u already, %u skipped, %u failed (%lld ms)\n",
		       op->revert ? "revert" : "apply", op->id, done,
		       op->revert ? "reverted" : "patched", n[OUTCOME_ALREADY], n[OUTCOME_SKIPPED],
		       n[OUTCOME_FAILED], (long long)ms);
	}
	/* A process named with --pid that the patch does not fit (another
	 * build) was not patched as asked: that is a failure for the exit code.
	 * Under --all, skipping what does not fit is the point. For revert, a
	 * process without the patch is already where revert leads. */
	if (!op->all && !op->revert && n[OUTCOME_SKIPPED])
		return EXIT_FAILED;
	return n[OUTCOME_FAILED] ? EXIT_FAILED : EXIT_OK;
}

/* Defaults, then hotpatch.conf, then the command line. */
static int configure(struct op *op)
{
	struct hp_config c;
	const char *grace = getenv("HOTPATCH_BOOST_GRACE_US");
	int r = config_load(&c);

	if (r < 0)
		return cli_refuse(r);
	op->eo.boost = c.boost;
	op->eo.boost_grace_ns = c.boost_grace_ns;
	/* A tuning knob for tests and benchmarks: 0 boosts every thread that
	 * has not stopped the moment it was interrupted. */
	if (grace && *grace)
		op->eo.boost_grace_ns = atoll(grace) * NSEC_PER_USEC;
	config_free(&c);
	return 0;
}

/* The engine across every process of @op, the reports as they come, then
 * the summary and what the commit policy decided. */
static int operate(struct op *op, int64_t t0)
{
	struct engine_run run = {.kind = op->revert ? ENGINE_REVERT : ENGINE_APPLY,
				 .b = op->b, .id = op->id, .pids = op->pids, .npids = op->npids,
				 .jobs = op->jobs, .o = op->eo, .stage = true, .all = op->all,
				 .on_report = on_report, .arg = op};
	int r;

	if (op->json) {
		json_obj_begin(&op->j);
		json_kv_str(&op->j, "operation", op->revert ? "revert" : "apply");
		json_kv_str(&op->j, "id", op->id);
		json_key(&op->j, "processes");
		json_arr_begin(&op->j);
	}
	r = engine_run(&run, &op->res);
	if (r < 0) {
		json_free(&op->j);
		op->j = (struct json){0};
		return cli_refuse(r);
	}
	r = finish(op, t0);
	cli_print_staging(&op->res.staging, op->json);
	return r;
}

static int select_and_operate(struct op *op, const char *target, int64_t t0)
{
	int r = resolve_target(op, target);

	/* hotpatchd keeps an enabled patch applied: a revert alone lasts only
	 * until its next rescan. */
	if (r == 0 && op->revert && store_is_enabled(op->id))
		cli_warn("patch %s is enabled: hotpatchd will apply it again; `hotpatch disable %s` "
			 "reverts it for good",
			 op->id, op->id);
	if (r == 0 && op->all)
		r = collect_all(op);
	return r ? r : operate(op, t0);
}

static void op_free(struct op *op)
{
	bundle_free(op->b);
	free(op->pids);
	json_free(&op->j);
}

static int run(bool revert, int argc, char **argv)
{
	struct op op = {.revert = revert,
			.eo = {.timeout_ns = DEFAULT_TIMEOUT_NS,
			       .stop_budget_ns = DEFAULT_STOP_BUDGET_NS}};
	int64_t t0 = now_ns();
	int r;

	r = configure(&op);
	if (r == 0)
		r = parse(&op, argc, argv);
	if (r == 0)
		r = cli_require_ptrace(revert ? "revert" : "apply");
	if (r == 0)
		r = select_and_operate(&op, argv[optind], t0);
	op_free(&op);
	/* Every path above returns an exit code; a negative errno here would
	 * be an unreported failure, never a success. */
	return r < 0 ? EXIT_FAILED : r == CLI_DONE ? EXIT_OK : r;
}

int cli_run_everywhere(bool revert, const char *id)
{
	struct op op = {.revert = revert, .all = true,
			.eo = {.timeout_ns = DEFAULT_TIMEOUT_NS,
			       .stop_budget_ns = DEFAULT_STOP_BUDGET_NS,
			       .skip_uninspectable = true}};
	int r;

	r = configure(&op);
	if (r == 0)
		r = select_and_operate(&op, id, now_ns());
	op_free(&op);
	return r < 0 ? EXIT_FAILED : r;
}

int cmd_apply(int argc, char **argv)
{
	return run(false, argc, argv);
}

int cmd_revert(int argc, char **argv)
{
	return run(true, argc, argv);
}
