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
#include "manifest.h"
#include "patches.h"
#include "procfs.h"
#include "safety.h"

/* One process, in the calling OS thread (apply.c, revert.c). */
void engine_apply(const struct bundle *b, pid_t pid, const struct engine_opts *o,
		  struct engine_report *rep);
void engine_revert(const char *id, pid_t pid, const struct engine_opts *o,
		   struct engine_report *rep);

/* What every operation on one process holds. */
struct session {
	pid_t pid;
	const struct engine_opts *o;
	struct engine_report *rep;
	int memfd;
	struct proc_maps maps;
	struct loaded_patch *loaded; /* the patches the process has loaded */
	size_t nloaded;
	struct flip_write *w;        /* what the flip writes */
	size_t nw;
	int64_t deadline_ns;         /* --timeout bounds the whole operation */
};

/* The steps of one kind of operation: @precheck runs without the process's
 * lock (is there anything to do at all? under --all most processes need
 * nothing, and must not queue behind a lock), @run under it. Both take the
 * operation's own state, which begins with its struct session. */
struct session_steps {
	const char *what;        /* "apply", "revert": for messages */
	const char *start_fault; /* the fault point once the lock is held */
	int (*precheck)(void *op);
	int (*run)(void *op);
};

/* Runs @steps on @s (pid, o and rep set; the report's other fields already
 * as the operation wants them) and fills the report: the error, and a
 * process that died is reported as such whatever step noticed it. Frees
 * what the session holds. */
void session_run(struct session *s, const struct session_steps *steps, void *op);

/* The maps and memory of the process, and the patches it has loaded. A
 * process that cannot be inspected is skipped under --all. */
int session_open(struct session *s);
int session_scan(struct session *s);

/* Adds a write of JUMP_SIZE @bytes at @addr that must find @expect there. */
int session_add_write(struct session *s, uint64_t addr, const uint8_t bytes[JUMP_SIZE],
		      const uint8_t expect[JUMP_SIZE]);

/* Stops the process, checks that no thread is in @forbid (taken over), and
 * writes the session's writes; fills the report's pause figures. */
int session_flip(struct session *s, struct range *forbid, size_t nforbid);

/* Traces a step that began at @t0 and ended with @r (HOTPATCH_DEBUG=1). */
void session_trace(const struct session *s, const char *name, int r, int64_t t0);
