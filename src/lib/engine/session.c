/* SPDX-License-Identifier: MIT */
#include "session.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "boost.h"
#include "clock.h"
#include "debug.h"
#include "fault.h"
#include "macro.h"
#include "pidlock.h"

static void pause_from(struct engine_pause *p, const struct flip_stats *st)
{
	*p = (struct engine_pause){.attempts = st->attempts,
				   .pause_ns = st->pause_ns,
				   .pause_max_ns = st->pause_max_ns,
				   .threads = st->threads,
				   .boost = boost_state_name(st->boost),
				   .boosted = st->boost == BOOST_USED,
				   .threads_boosted = st->boosted};
}

int session_flip(struct session *s, struct range *forbid, size_t nforbid)
{
	struct flip_opts fo = {.timeout_ns = MAX(s->deadline_ns - now_ns(), 0),
			       .stop_budget_ns = s->o->stop_budget_ns,
			       .boost = s->o->boost,
			       .boost_grace_ns = s->o->boost_grace_ns};
	struct flip_stats st = {0};
	struct safety sf;
	int r;

	safety_init(&sf, s->pid, s->memfd, &s->maps, forbid, nforbid);
	r = flip_run(&sf, s->w, s->nw, &fo, &st);
	safety_free(&sf);
	pause_from(&s->rep->flip, &st);
	return r;
}

int session_add_write(struct session *s, uint64_t addr, const uint8_t bytes[JUMP_SIZE],
		      const uint8_t expect[JUMP_SIZE])
{
	struct flip_write *nv = realloc(s->w, (s->nw + 1) * sizeof(*nv));

	if (!nv)
		return hp_err(-ENOMEM, "out of memory");
	s->w = nv;
	nv[s->nw] = (struct flip_write){.addr = addr, .len = JUMP_SIZE};
	memcpy(nv[s->nw].bytes, bytes, JUMP_SIZE);
	memcpy(nv[s->nw].expect, expect, JUMP_SIZE);
	s->nw++;
	return 0;
}

int session_open(struct session *s)
{
	int r = proc_maps_read(s->pid, &s->maps);

	if (r < 0) {
		if (s->o->skip_uninspectable)
			s->rep->outcome = OUTCOME_SKIPPED;
		return r;
	}
	s->memfd = proc_mem_open(s->pid, true);
	return s->memfd < 0 ? s->memfd : 0;
}

int session_scan(struct session *s)
{
	return patches_scan(s->pid, s->memfd, &s->maps, &s->loaded, &s->nloaded);
}

void session_trace(const struct session *s, const char *name, int r, int64_t t0)
{
	hp_debug("pid %d: %s: %s (%lld us)", s->pid, name, r < 0 ? hp_err_msg(r) : "ok",
		 (long long)(now_ns() - t0) / 1000);
}

/* Has the process exited? After an ESRCH (ptrace found a thread gone), a
 * process being killed may still be finishing its exit: its threads tear
 * down their memory before they are zombies, which takes a while on a
 * loaded host. Wait up to a second for that, on this failure path only,
 * and only for a process the operation was changing (@r: its error; 0 for
 * one that was skipped, such as a kernel thread under --all, whose maps
 * cannot be read and which never exits). */
static bool exited(pid_t pid, int r)
{
	if (proc_exited(pid))
		return true;
	for (int i = 0; r == -ESRCH && i < 200; i++) {
		usleep(5000);
		if (proc_exited(pid))
			return true;
	}
	return false;
}

static void fill_error(struct session *s, const struct session_steps *steps, int r)
{
	/* Whatever step noticed it, a process that died is reported as such:
	 * there is nothing left to undo. */
	bool skipped = s->rep->outcome == OUTCOME_SKIPPED;

	if (r != -ENOENT && exited(s->pid, skipped ? 0 : r))
		r = hp_err(-ESRCH, "process %d exited during the %s; nothing to undo", s->pid,
			   steps->what);
	s->rep->err = r;
	snprintf(s->rep->reason, sizeof(s->rep->reason), "%s", hp_err_msg(r));
	if (s->rep->outcome != OUTCOME_SKIPPED)
		s->rep->outcome = OUTCOME_FAILED;
}

void session_run(struct session *s, const struct session_steps *steps, void *op)
{
	int64_t t0 = now_ns();
	int lock, r;

	s->memfd = -1;
	s->rep->pid = s->pid;
	proc_comm(s->pid, s->rep->comm, sizeof(s->rep->comm));
	hp_err_clear();
	r = steps->precheck(op);
	s->deadline_ns = t0 + s->o->timeout_ns;
	lock = r < 0 ? -1 : pidlock_take(s->pid, s->deadline_ns);
	if (r == 0 && lock < 0)
		r = lock;
	if (r == 0) {
		fault_point(steps->start_fault);
		r = steps->run(op);
	}
	if (r < 0)
		fill_error(s, steps, r);
	pidlock_release(lock);
	if (s->memfd >= 0)
		close(s->memfd);
	proc_maps_free(&s->maps);
	patches_free(s->loaded, s->nloaded);
	free(s->w);
	s->rep->total_ns = now_ns() - t0;
}
