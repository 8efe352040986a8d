/* SPDX-License-Identifier: MIT */
/*
 * Work across cores for one operation over many processes (run.c): each
 * worker OS thread takes the next pid and runs the whole per-process
 * operation on it.
 */
#pragma once

#include <stddef.h>
#include <sys/types.h>

struct engine_report;

typedef void (*pool_fn)(pid_t pid, void *arg, struct engine_report *rep);
/* Sees each report, in completion order, one at a time. */
typedef void (*pool_done_fn)(const struct engine_report *rep, void *arg);

int pool_run(const pid_t *pids, size_t n, unsigned jobs, pool_fn fn, pool_done_fn done, void *arg);
unsigned pool_default_jobs(void);
