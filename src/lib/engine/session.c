/* SPDX-License-Identifier: MIT */
#include "session.h"

#include "boost.h"
#include "clock.h"
#include "macro.h"

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

int session_flip(pid_t pid, int memfd, const struct proc_maps *maps, struct range *forbid,
		 size_t nforbid, const struct flip_write *w, size_t nw,
		 const struct engine_opts *o, int64_t deadline_ns, struct engine_pause *ret)
{
	struct flip_opts fo = {.timeout_ns = MAX(deadline_ns - now_ns(), 0),
			       .stop_budget_ns = o->stop_budget_ns,
			       .boost = o->boost,
			       .boost_grace_ns = o->boost_grace_ns};
	struct flip_stats st = {0};
	struct safety s;
	int r;

	safety_init(&s, pid, memfd, maps, forbid, nforbid);
	r = flip_run(&s, w, nw, &fo, &st);
	safety_free(&s);
	pause_from(ret, &st);
	return r;
}
