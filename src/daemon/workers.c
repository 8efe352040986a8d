/* SPDX-License-Identifier: MIT */
#include "workers.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "audit.h"
#include "bundle.h"
#include "clock.h"
#include "error.h"

_Static_assert(sizeof(struct job_result) <= PIPE_BUF, "results are written atomically");

struct running {
	pid_t worker;
	struct job_result job;
	bool reported;
};

struct workers {
	unsigned max;
	int rfd, wfd;
	struct running *v;
	unsigned n;
};

int workers_new(unsigned max, struct workers **ret)
{
	struct workers *w = calloc(1, sizeof(*w));
	int fds[2];

	if (!w)
		return hp_err(-ENOMEM, "out of memory");
	w->max = max ? max : 1;
	w->v = calloc(w->max, sizeof(*w->v));
	if (!w->v || pipe2(fds, O_CLOEXEC | O_NONBLOCK) < 0) {
		free(w->v);
		free(w);
		return hp_err(-errno, "cannot create the workers' pipe: %m");
	}
	w->rfd = fds[0];
	w->wfd = fds[1];
	*ret = w;
	return 0;
}

void workers_free(struct workers *w)
{
	if (!w)
		return;
	for (unsigned i = 0; i < w->n; i++)
		waitpid(w->v[i].worker, NULL, 0);
	close(w->rfd);
	close(w->wfd);
	free(w->v);
	free(w);
}

int workers_fd(const struct workers *w)
{
	return w->rfd;
}

unsigned workers_running(const struct workers *w)
{
	return w->n;
}

bool workers_full(const struct workers *w)
{
	return w->n == w->max;
}

bool workers_busy(const struct workers *w, const char *id, pid_t target)
{
	for (unsigned i = 0; i < w->n; i++)
		if (w->v[i].job.target == target && strcmp(w->v[i].job.id, id) == 0)
			return true;
	return false;
}

static void job_report(const struct engine_report *rep, void *arg)
{
	struct job_result *out = arg;

	out->rep = *rep;
}

static void worker_main(int wfd, struct job_result *job, const struct bundle *b,
			const struct engine_opts *eo)
{
	/* A copy on this stack: gcc's -fsanitize build cannot see through the
	 * array element and would warn about the write below. */
	struct job_result out = *job;
	struct engine_run run = {.kind = out.op == JOB_APPLY ? ENGINE_APPLY : ENGINE_REVERT,
				 .b = b, .id = out.id, .pids = &out.target, .npids = 1, .jobs = 1,
				 .o = *eo, .quiet_failures = out.retry_on_failure,
				 .sync_later = true, /* the daemon syncs once a second */
				 .on_report = job_report, .arg = &out};
	struct engine_result res;
	ssize_t n;
	int r;

	prctl(PR_SET_NAME, "hotpatch-work", 0, 0, 0);
	signal(SIGTERM, SIG_DFL);
	/* The engine records the outcome on the audit trail here, in the
	 * worker: a daemon killed while the job ran would never read the
	 * report, and the trail must still have the apply. Nothing is written
	 * into a process that cannot be recorded (a full disk): a failure,
	 * retried like any other. */
	r = engine_run(&run, &res);
	if (r < 0) {
		out.rep = (struct engine_report){.outcome = OUTCOME_FAILED, .pid = out.target};
		snprintf(out.rep.reason, sizeof(out.rep.reason), "%s", hp_err_msg(r));
	}
	if (audit_trouble())
		fprintf(stderr, "hotpatchd: worker: could not write the audit log: %s\n",
			audit_trouble());
	n = write(wfd, &out, sizeof(out));
	_exit(n == (ssize_t)sizeof(out) ? 0 : 1);
}

int workers_start(struct workers *w, enum job_op op, const char *id, pid_t target,
		  bool retry_on_failure, const struct bundle *b, const struct engine_opts *eo)
{
	struct running *r;
	pid_t pid;

	if (w->n == w->max)
		return -EAGAIN;
	r = &w->v[w->n];
	*r = (struct running){.job = {.op = op, .target = target,
				      .retry_on_failure = retry_on_failure}};
	snprintf(r->job.id, sizeof(r->job.id), "%s", id);
	pid = fork();
	if (pid < 0)
		return hp_err(-errno, "cannot fork a worker: %m");
	if (pid == 0)
		worker_main(w->wfd, &r->job, b, eo);
	r->worker = pid;
	w->n++;
	return 0;
}

static struct running *find_job(struct workers *w, const struct job_result *res)
{
	for (unsigned i = 0; i < w->n; i++)
		if (w->v[i].job.target == res->target && strcmp(w->v[i].job.id, res->id) == 0 &&
		    !w->v[i].reported)
			return &w->v[i];
	return NULL;
}

void workers_collect(struct workers *w, void (*done)(const struct job_result *r, void *arg),
		     void *arg)
{
	struct job_result res;

	while (read(w->rfd, &res, sizeof(res)) == (ssize_t)sizeof(res)) {
		struct running *r = find_job(w, &res);

		if (r)
			r->reported = true;
		done(&res, arg);
	}
	for (unsigned i = 0; i < w->n;) {
		int status;

		if (waitpid(w->v[i].worker, &status, WNOHANG) != w->v[i].worker) {
			i++;
			continue;
		}
		if (!w->v[i].reported) {
			struct job_result *j = &w->v[i].job;

			j->rep = (struct engine_report){.pid = j->target, .outcome = OUTCOME_FAILED,
							.err = -ECHILD};
			snprintf(j->rep.reason, sizeof(j->rep.reason),
				 "the worker died (status 0x%x) before reporting", status);
			done(j, arg);
		}
		w->v[i] = w->v[--w->n];
	}
}
