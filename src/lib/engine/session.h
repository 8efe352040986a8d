/* SPDX-License-Identifier: MIT */
/*
 * What apply and revert share: one operation on one process, from the
 * report it fills to the flip it ends with. apply.c and revert.c say what to
 * write; this file says how an operation on a process is run.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "engine.h"
#include "flip.h"
#include "procfs.h"
#include "safety.h"

/* Stops the process, checks that no thread is in @forbid (taken over), and
 * writes @w; fills the report's pause figures. */
int session_flip(pid_t pid, int memfd, const struct proc_maps *maps, struct range *forbid,
		 size_t nforbid, const struct flip_write *w, size_t nw,
		 const struct engine_opts *o, int64_t deadline_ns, struct engine_pause *ret);
