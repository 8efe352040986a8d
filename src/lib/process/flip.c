/* SPDX-License-Identifier: MIT */
#include "flip.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

#include "arch.h"
#include "boost.h"
#include "clock.h"
#include "debug.h"
#include "emulate.h"
#include "error.h"
#include "fault.h"
#include "macro.h"
#include "procfs.h"
#include "safety.h"
#include "threads.h"

#define BACKOFF_MIN_NS (1 * NSEC_PER_MSEC)
#define EVACUATE_ROUNDS_MAX 1000
#define EMULATE_INSNS_MAX 16
/* A round costs a stop per thread (tens to hundreds of microseconds on a busy
 * or virtualised host): bound the whole evacuation. */
#define EVACUATE_BUDGET_NS (5000 * NSEC_PER_USEC)
#define BACKOFF_MAX_NS (50 * NSEC_PER_MSEC)

/*
 * The writes, grouped by page into spans, so the pause holds one read (all
 * spans in one process_vm_readv) and one write per page, not one of each
 * per function. Planned before the pause.
 */
struct span {
	uint64_t addr;
	size_t len;
	size_t off; /* into the plan's buffers */
};

struct plan {
	struct span *v;
	size_t n;
	uint8_t *cur; /* what is there now (read in the pause) */
	uint8_t *out; /* cur with every write applied */
	size_t size;
};

static int cmp_write(const void *a, const void *b)
{
	const struct flip_write *x = a, *y = b;

	return (x->addr > y->addr) - (x->addr < y->addr);
}

static void plan_free(struct plan *p)
{
	free(p->v);
	free(p->cur);
	free(p->out);
	*p = (struct plan){0};
}

/* @w must be sorted by address. */
static int plan_spans(const struct flip_write *w, size_t n, struct plan *p)
{
	*p = (struct plan){.v = calloc(n ? n : 1, sizeof(*p->v))};
	if (!p->v)
		return hp_err(-ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++) {
		struct span *last = p->n ? &p->v[p->n - 1] : NULL;
		uint64_t end = w[i].addr + w[i].len;

		if (last && w[i].addr >= last->addr && (w[i].addr >> 12) == (last->addr >> 12) &&
		    end - last->addr <= 4096) {
			if (end > last->addr + last->len)
				last->len = end - last->addr;
			continue;
		}
		p->v[p->n++] = (struct span){.addr = w[i].addr, .len = w[i].len};
	}
	for (size_t i = 0; i < p->n; i++) {
		p->v[i].off = p->size;
		p->size += p->v[i].len;
	}
	p->cur = malloc(p->size ? p->size : 1);
	p->out = malloc(p->size ? p->size : 1);
	return p->cur && p->out ? 0 : hp_err(-ENOMEM, "out of memory");
}

static int read_spans(pid_t pid, int memfd, struct plan *p)
{
	for (size_t i = 0; i < p->n; i += IOV_MAX) {
		size_t k = MIN(p->n - i, (size_t)IOV_MAX), want = 0;
		struct iovec local[IOV_MAX], remote[IOV_MAX];

		for (size_t j = 0; j < k; j++) {
			const struct span *sp = &p->v[i + j];

			local[j] = (struct iovec){p->cur + sp->off, sp->len};
			remote[j] = (struct iovec){(void *)sp->addr, sp->len};
			want += sp->len;
		}
		if (process_vm_readv(pid, local, k, remote, k, 0) == (ssize_t)want)
			continue;
		/* Partial or refused: read span by span, for the right error. */
		for (size_t j = 0; j < k; j++) {
			const struct span *sp = &p->v[i + j];
			int r = proc_mem_read(memfd, sp->addr, p->cur + sp->off, sp->len);

			if (r < 0)
				return r;
		}
	}
	return 0;
}

/* The bytes about to be replaced must still be the expected ones. */
static int verify_and_fill(struct plan *p, const struct flip_write *w, size_t n)
{
	size_t s = 0;

	memcpy(p->out, p->cur, p->size);
	for (size_t i = 0; i < n; i++) {
		size_t at;

		while (w[i].addr >= p->v[s].addr + p->v[s].len)
			s++;
		at = p->v[s].off + (w[i].addr - p->v[s].addr);
		if (memcmp(p->cur + at, w[i].expect, w[i].len) != 0)
			return hp_err(-EBUSY, "the code at 0x%" PRIx64 " changed while hotpatch was "
					      "preparing (another tool is modifying the process?); "
					      "nothing was written",
				      w[i].addr);
		memcpy(p->out + at, w[i].bytes, w[i].len);
	}
	return 0;
}

/* All or nothing: on a failed write, put back what was written. */
static int write_spans(int memfd, const struct plan *p)
{
	for (size_t i = 0; i < p->n; i++) {
		const struct span *sp = &p->v[i];
		int r = proc_mem_write(memfd, sp->addr, p->out + sp->off, sp->len);

		if (r < 0) {
			while (i-- > 0)
				proc_mem_write(memfd, p->v[i].addr, p->cur + p->v[i].off, p->v[i].len);
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
	st->boost = ts->boost;
	st->boosted = ts->boosted;
}

/* A thread stopped inside a function being changed, with nothing else of it
 * on its stack, is usually a few instructions from returning (a hot loop
 * calling a small function). Let such threads run on for a moment while
 * the others stay stopped, and stop them again, until none is inside,
 * instead of releasing everyone and hoping for better luck: with many busy
 * threads, a blind retry almost never finds them all outside at once. The
 * threads that are out stay stopped, so each round only has the rest to
 * move. (They are not single-stepped: a step leaves the trap flag armed if
 * the tool dies, and the thread would die of SIGTRAP; see threads.h.) */
static bool wants_out(struct safety *s, const struct thread *t)
{
	/* Not when a signal waits for it or in a group stop: resumed, it would
	 * take the signal or stay stopped. */
	if (!t->stopped || t->gone || t->sig || t->group_stop)
		return false;
	/* Blocked inside the function in a system call: only a retry helps. */
	if (arch_syscall_nr(&t->regs) != -1)
		return false;
	return range_find(s->forbid, s->nforbid, arch_pc(&t->regs)) != NULL;
}

/* 0 when every thread is stopped again (wherever they are: the safety check
 * decides); 1 with @why when one could not be stopped in time; <0 on error. */
/* A thread on its function's epilogue (ret, pop, leave) is moved out by
 * setting its registers to what those instructions leave (emulate.h). */
static void walk_out(struct safety *s, struct thread *t)
{
	struct user_regs_struct r = t->regs;
	bool moved = false;

	for (int i = 0; i < EMULATE_INSNS_MAX && range_find(s->forbid, s->nforbid, arch_pc(&r)); i++) {
		if (emulate_simple_insn(s->memfd, &r) != 1)
			break;
		moved = true;
	}
	if (moved && arch_regs_set(t->tid, &r) == 0)
		t->regs = r;
}

static int evacuate(struct safety *s, struct threads *ts, int64_t deadline, char *why,
		    size_t len)
{
	int64_t budget_end = now_ns() + EVACUATE_BUDGET_NS;
	bool *out = calloc(ts->n ? ts->n : 1, sizeof(bool));
	bool ran = false;
	int r;

	for (int round = 0; out && round < EVACUATE_ROUNDS_MAX && now_ns() < budget_end; round++) {
		size_t want = 0;

		for (size_t i = 0; i < ts->n; i++) {
			if (s->emulate && wants_out(s, &ts->v[i]))
				walk_out(s, &ts->v[i]);
			out[i] = wants_out(s, &ts->v[i]);
			want += out[i];
		}
		if (!want)
			break;
		ran = true;
		if (!threads_run_briefly(ts, out, deadline))
			break;
	}
	free(out);
	if (!ran)
		return 0;
	/* Threads that ran may have made new ones, or blocked. */
	r = threads_restop(ts, deadline);
	if (r == -ETIMEDOUT) {
		snprintf(why, len, "thread %d did not stop again in time (state %c)", ts->laggard,
			 ts->laggard_state);
		return 1;
	}
	return r;
}

/* One attempt. 0: written. 1: unsafe or a thread too slow (retry). <0: fail. */
static int attempt(struct safety *s, struct threads *ts, struct plan *p, const struct flip_write *w,
		   size_t n, const struct flip_opts *o, char *why, size_t len)
{
	int64_t t_stop, t_evac, t_check, t_write;
	int r;

	r = threads_seize(ts, s->pid);
	if (r < 0)
		return r;
	fault_point("flip-before-stop");
	r = threads_stop(ts, now_ns() + o->stop_budget_ns,
			 &(struct stop_opts){.boost = o->boost, .grace_ns = o->boost_grace_ns});
	if (r == -ETIMEDOUT) {
		snprintf(why, len, "thread %d did not stop in time (state %c)", ts->laggard,
			 ts->laggard_state);
		return 1;
	}
	if (r < 0)
		return r;
	fault_point("flip-stopped");
	t_stop = now_ns();
	r = evacuate(s, ts, now_ns() + o->stop_budget_ns, why, len);
	t_evac = now_ns();
	if (r != 0) {
		threads_release(ts);
		return r;
	}
	r = read_spans(s->pid, s->memfd, p);
	if (r == 0)
		r = verify_and_fill(p, w, n);
	if (r == 0)
		r = safety_check(s, ts, why, len);
	t_check = now_ns();
	if (r == 0) {
		r = write_spans(s->memfd, p);
		if (r == 0)
			fault_point("flip-written");
	}
	t_write = now_ns();
	threads_release(ts);
	hp_debug("pid %d: %zu threads (boost %s, %zu boosted): stop %lld us, evacuate %lld us, check %lld us (%u unwinds), "
		 "write %lld us, release %lld us -> %s",
		 s->pid, ts->n, boost_state_name(ts->boost), ts->boosted,
		 (long long)(t_stop - ts->pause_start_ns) / 1000,
		 (long long)(t_evac - t_stop) / 1000, (long long)(t_check - t_evac) / 1000,
		 s->unwinds, (long long)(t_write - t_check) / 1000,
		 (long long)(ts->pause_end_ns - t_write) / 1000,
		 r < 0 ? "error" : r ? why : "written");
	return r;
}

/* What to do about the thread that was in the way every time. */
static const char *give_up_advice(const char *why)
{
	if (strstr(why, "sleeping inside"))
		return "it cannot be switched while that thread waits in it: retry once the "
		       "thread has returned from it, or raise --timeout to wait for it";
	if (strstr(why, "on its stack"))
		return "a function that never returns (a main loop, say) cannot be switched: "
		       "keep it out of the patch";
	return "retry later or raise --timeout";
}

int flip_run(struct safety *s, const struct flip_write *w, size_t n, const struct flip_opts *o,
	     struct flip_stats *st)
{
	int64_t deadline = now_ns() + o->timeout_ns, backoff = BACKOFF_MIN_NS;
	struct flip_write *sorted = malloc((n ? n : 1) * sizeof(*sorted));
	struct threads ts = {0};
	struct plan plan = {0};
	char why[256] = "";
	int r;

	*st = (struct flip_stats){0};
	if (!sorted)
		return hp_err(-ENOMEM, "out of memory");
	memcpy(sorted, w, n * sizeof(*w));
	qsort(sorted, n, sizeof(*sorted), cmp_write);
	r = plan_spans(sorted, n, &plan);
	for (; r == 0;) {
		st->attempts++;
		ts.pause_start_ns = ts.pause_end_ns = 0;
		r = attempt(s, &ts, &plan, sorted, n, o, why, sizeof(why));
		note_pause(st, &ts);
		if (r <= 0)
			break;
		if (now_ns() + backoff > deadline) {
			/* The same frame in the way every time is a function that
			 * does not return (a main loop): no retry will help. */
			r = hp_err(-ETIMEDOUT, "gave up after %d attempts: %s; %s", st->attempts,
				   why, give_up_advice(why));
			break;
		}
		/* Threads that were busy get time to leave the functions. */
		threads_idle(&ts, backoff);
		backoff = MIN(backoff * 2, BACKOFF_MAX_NS);
		r = 0;
	}
	threads_free(&ts);
	plan_free(&plan);
	free(sorted);
	return r;
}
