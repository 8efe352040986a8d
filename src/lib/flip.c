/* SPDX-License-Identifier: MIT */
#include "flip.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "clock.h"
#include "debug.h"
#include "error.h"
#include "fault.h"
#include "macro.h"
#include "procfs.h"
#include "safety.h"
#include "threads.h"

#define BACKOFF_MIN_NS (1 * NSEC_PER_MSEC)
#define STEP_ROUNDS_MAX 64
/* A step costs a round trip to the tracee (tens to hundreds of microseconds
 * on a busy or virtualised host): bound the whole evacuation. */
#define EVACUATE_BUDGET_NS (1000 * NSEC_PER_USEC)
#define BACKOFF_MAX_NS (50 * NSEC_PER_MSEC)

static int verify_current(int memfd, const struct flip_write *w, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		uint8_t cur[RECORD_MAX_BYTES];
		int r = proc_mem_read(memfd, w[i].addr, cur, w[i].len);

		if (r < 0)
			return r;
		if (memcmp(cur, w[i].expect, w[i].len) != 0)
			return hp_err(-EBUSY, "the code at 0x%" PRIx64 " changed while hotpatch was "
					      "preparing (another tool is modifying the process?); "
					      "nothing was written",
				      w[i].addr);
	}
	return 0;
}

/* All or nothing: on a failed write, put back what was written. */
static int write_all(int memfd, const struct flip_write *w, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int r;

		r = proc_mem_write(memfd, w[i].addr, w[i].bytes, w[i].len);
		if (r < 0) {
			while (i-- > 0)
				proc_mem_write(memfd, w[i].addr, w[i].expect, w[i].len);
			return r;
		}
	}
	return 0;
}

static void note_pause(struct flip_stats *st, const struct threads *ts)
{
	int64_t p = ts->pause_end_ns - ts->pause_start_ns;

	if (!ts->pause_start_ns || p < 0)
		return;
	st->pause_ns = p;
	st->pause_max_ns = MAX(st->pause_max_ns, p);
	st->threads = ts->n;
}

/* A thread stopped inside a function being changed, with nothing else of it
 * on its stack, is usually a few instructions from returning (a hot loop
 * calling a small function). Step such threads out while the others stay
 * stopped, instead of releasing everyone and hoping for better luck: with
 * many busy threads, a blind retry almost never finds them all outside at
 * once. All of them step together, one instruction per round, so the cost
 * grows with the number of rounds, not with the number of threads. */
static bool wants_step(struct safety *s, const struct thread *t)
{
	uint8_t insn[2];

	/* Not when a signal waits for it, in a group stop, or inside a system
	 * call (a step would resume the call). */
	if (!t->stopped || t->gone || t->sig || t->group_stop || (long)t->regs.orig_rax != -1)
		return false;
	if (!range_find(s->forbid, s->nforbid, t->regs.rip))
		return false;
	/* A syscall instruction could block; leave it to a retry. */
	return proc_mem_read(s->memfd, t->regs.rip, insn, 2) == 0 &&
	       !(insn[0] == 0x0f && insn[1] == 0x05);
}

static void evacuate(struct safety *s, struct threads *ts, int64_t deadline)
{
	int64_t budget_end = now_ns() + EVACUATE_BUDGET_NS;
	bool *stepping = calloc(ts->n ? ts->n : 1, sizeof(bool));

	for (int round = 0; stepping && round < STEP_ROUNDS_MAX && now_ns() < budget_end; round++) {
		size_t want = 0;

		for (size_t i = 0; i < ts->n; i++) {
			stepping[i] = wants_step(s, &ts->v[i]);
			want += stepping[i];
		}
		if (!want || !threads_step(ts, stepping, deadline))
			break;
	}
	free(stepping);
	hp_err_clear();
}

/* One attempt. 0: written. 1: unsafe or a thread too slow (retry). <0: fail. */
static int attempt(struct safety *s, struct threads *ts, const struct flip_write *w, size_t n,
		   const struct flip_opts *o, char *why, size_t len)
{
	int64_t t_stop, t_evac, t_check, t_write;
	int r;

	r = threads_seize(ts, s->pid);
	if (r < 0)
		return r;
	fault_point("flip-before-stop");
	r = threads_stop(ts, now_ns() + o->stop_budget_ns);
	if (r == -ETIMEDOUT) {
		snprintf(why, len, "thread %d did not stop in time (state %c)", ts->laggard,
			 ts->laggard_state);
		return 1;
	}
	if (r < 0)
		return r;
	fault_point("flip-stopped");
	t_stop = now_ns();
	evacuate(s, ts, now_ns() + o->stop_budget_ns);
	t_evac = now_ns();
	r = verify_current(s->memfd, w, n);
	if (r == 0)
		r = safety_check(s, ts, why, len);
	t_check = now_ns();
	if (r == 0) {
		r = write_all(s->memfd, w, n);
		if (r == 0)
			fault_point("flip-written");
	}
	t_write = now_ns();
	threads_release(ts);
	hp_debug("pid %d: %zu threads: stop %lld us, evacuate %lld us, check %lld us (%u unwinds), "
		 "write %lld us, release %lld us -> %s",
		 s->pid, ts->n, (long long)(t_stop - ts->pause_start_ns) / 1000,
		 (long long)(t_evac - t_stop) / 1000, (long long)(t_check - t_evac) / 1000,
		 s->unwinds, (long long)(t_write - t_check) / 1000,
		 (long long)(ts->pause_end_ns - t_write) / 1000,
		 r < 0 ? "error" : r ? why : "written");
	return r;
}

int flip_run(struct safety *s, const struct flip_write *w, size_t n, const struct flip_opts *o,
	     struct flip_stats *st)
{
	int64_t deadline = now_ns() + o->timeout_ns, backoff = BACKOFF_MIN_NS;
	struct threads ts = {0};
	char why[256] = "";
	int r;

	*st = (struct flip_stats){0};
	for (;;) {
		st->attempts++;
		ts.pause_start_ns = ts.pause_end_ns = 0;
		r = attempt(s, &ts, w, n, o, why, sizeof(why));
		note_pause(st, &ts);
		if (r <= 0)
			break;
		if (now_ns() + backoff > deadline) {
			r = hp_err(-ETIMEDOUT, "gave up after %d attempts: %s; retry later or raise "
					       "--timeout",
				   st->attempts, why);
			break;
		}
		/* Threads that were busy get time to leave the functions. */
		threads_idle(&ts, backoff);
		backoff = MIN(backoff * 2, BACKOFF_MAX_NS);
	}
	threads_free(&ts);
	return r;
}
