/* SPDX-License-Identifier: MIT */
/*
 * A target's seccomp filters, read with PTRACE_SECCOMP_GET_FILTER and run
 * here on the system calls hotpatch is about to make in it.
 *
 * A filter may answer a call with an errno (harmless: the call fails, and
 * hotpatch falls back or reports it), or it may kill the process, send it
 * SIGSYS, or hand the call to a tracer or supervisor. Making such a call in a
 * production service would take it down, so each remote call is checked
 * first, and refused with the reason when the filter would do anything but
 * allow it or fail it.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct seccomp_filters;

/* Reads the filters of the stopped, traced thread @tid. No filters: a NULL
 * result and 0. Seccomp strict mode: -EPERM. */
int seccomp_filters_get(pid_t pid, pid_t tid, struct seccomp_filters **ret);
struct seccomp_filters *seccomp_filters_free(struct seccomp_filters *f);
/* Whether this process may read other processes' filters at all: 0, or
 * -EACCES with what blocks it and the remedy. */
int seccomp_filters_readable(void);

enum seccomp_verdict {
	SECCOMP_VERDICT_ALLOW,  /* runs (allowed or only logged) */
	SECCOMP_VERDICT_ERRNO,  /* fails with an errno, harmlessly */
	SECCOMP_VERDICT_DANGER, /* kills, traps, or diverts the call */
};

/* The verdict of all filters (the most severe wins) on one call. */
enum seccomp_verdict seccomp_evaluate(const struct seccomp_filters *f, long nr,
				      const long args[6], uint64_t ip, uint32_t *ret_action);
const char *seccomp_action_name(uint32_t action);
