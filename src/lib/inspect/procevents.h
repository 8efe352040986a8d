/* SPDX-License-Identifier: MIT */
/* The kernel's process events connector (netlink): exec, fork and exit of
 * every process on the host, as they happen, without touching the
 * processes. */
#pragma once

#include <sys/types.h>

#include <stdint.h>

enum proc_event_kind { PROC_EV_EXEC, PROC_EV_FORK, PROC_EV_EXIT };

struct proc_ev {
	enum proc_event_kind kind;
	pid_t pid;
	pid_t parent;   /* of a fork */
	int64_t t_ns;   /* when it happened, CLOCK_MONOTONIC */
};

int procevents_open(void);
/* Reads what is queued; calls @cb for each exec, each new process (a fork,
 * with its @parent; new threads are not reported) and each process exit. A
 * full socket buffer (events lost) is reported as pid 0: rescan. Returns how
 * many messages were read, or -errno. */
int procevents_read(int fd, void (*cb)(const struct proc_ev *ev, void *arg), void *arg);
