/* SPDX-License-Identifier: MIT */
/*
 * The priority-assisted stop.
 *
 * On a busy host, stopping a thread that is runnable but not running takes
 * as long as the scheduler needs to give it a CPU, and every thread already
 * stopped waits for it. A thread that has not stopped shortly after being
 * interrupted is therefore given SCHED_FIFO priority 1 until it stops, while
 * the stopping thread itself runs at SCHED_FIFO 2 (above them). Blocked and
 * idle threads stop at once and are never touched.
 *
 * Each thread's exact attributes (sched_getattr: policy, priority, nice,
 * reset-on-fork; utilisation clamps are never changed) are saved before it
 * is boosted and put back as soon as it has stopped, so always before it is
 * released. Threads already real-time, and SCHED_DEADLINE ones, are left
 * alone.
 *
 * Nothing stays boosted if the tool dies: the saved attributes live in
 * memory shared with a small guardian process, which waits for the tool's
 * end of a pipe to close and then restores every thread still marked
 * boosted. Where the kernel refuses a boost (no CAP_SYS_NICE, no real-time
 * budget in the cgroup), the stop simply goes on unboosted, and the report
 * says so.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct boost_slot;

enum boost_state {
	BOOST_OFF,     /* not asked for (--no-boost, config) */
	BOOST_UNUSED,  /* asked for, every thread stopped without it */
	BOOST_USED,    /* some threads were boosted */
	BOOST_REFUSED, /* the kernel refused; the plain stop was used */
};

const char *boost_state_name(enum boost_state s);

/* Runs the calling thread at SCHED_FIFO 2 for the duration of a stop.
 * Returns false (and changes nothing) when refused. */
bool boost_self_begin(void);
void boost_self_end(void);

/* Boost thread @tid. Returns its slot (to pass to boost_restore), NULL when
 * it needs no boost (already real-time) and sets @ret_refused when the
 * kernel refused. */
struct boost_slot *boost_thread(pid_t tid, bool *ret_refused);
void boost_restore(struct boost_slot *slot);

/* Reads a thread's scheduling attributes as text, for tests and reports. */
int boost_describe(pid_t tid, char *buf, size_t len);
