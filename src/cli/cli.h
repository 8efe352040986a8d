/* SPDX-License-Identifier: MIT */
/* The hotpatch command line: one file per subcommand. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "bundle.h"

struct engine_report;

/* Exit codes: 0 success, 1 an operation failed on some process, 2 a refusal
 * (bad input, trust, permissions, usage). */
enum { EXIT_OK = 0, EXIT_FAILED = 1, EXIT_REFUSED = 2 };

struct subcommand {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
};

int cmd_build(int argc, char **argv);
/* `hotpatch build`: runs the builder program with the same arguments
 * (build_exec.c); returns only when it cannot. */
int cmd_build_exec(int argc, char **argv, const char *root);
int cmd_info(int argc, char **argv);
int cmd_apply(int argc, char **argv);
int cmd_revert(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_keygen(int argc, char **argv);
int cmd_sign(int argc, char **argv);
int cmd_install(int argc, char **argv);
int cmd_remove(int argc, char **argv);
int cmd_audit(int argc, char **argv);
int cmd_doctor(int argc, char **argv);
int cmd_enable(int argc, char **argv);
int cmd_disable(int argc, char **argv);
int cmd_commit(int argc, char **argv);
int cmd_rollback(int argc, char **argv);

/* The commit policy (cmd_commit.c): after an apply that patched a process
 * or an enable, stage the stored bundle @id for commit (or commit it, with
 * `commit = immediately`); after `revert --all` or disable, withdraw the
 * staging. Notes go to stdout, or stderr when stdout is JSON. @loaded: the
 * bundle the apply verified and used, if any, so that staging does not load
 * and verify the stored copy a second time (40 % of an apply's instructions);
 * a commit itself always reads the stored copy. */
struct bundle;
void cli_commit_after_apply(const char *id, const struct bundle *loaded, bool json);
void cli_commit_after_revert(const char *id, bool json);
/* status: every stored bundle and its commit state (status_store.c).
 * @applied: the id of each patch found in a process, once per process. */
struct json;
void status_store_text(const char *const *applied, size_t napplied);
void status_store_json(struct json *j, const char *const *applied, size_t napplied);
int cmd_package(int argc, char **argv);
int cmd_catchup(int argc, char **argv);

/* Set when the command was given --json: refusals are then also a JSON
 * object, {"error": MESSAGE, "exit": 2}, on standard output. */
extern bool cli_json;
/* Prints "hotpatch: <message>" for @r and returns EXIT_REFUSED. */
int cli_refuse(int r);
void cli_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int cli_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Refuses unless we may ptrace other users' processes. */
int cli_require_ptrace(const char *what);
/* Refuses unless we run as root (the store and log are root's). */
int cli_require_root(const char *what);
/* Records a bundle refused before it could be used. */
void cli_audit_refusal(const char *op, const char *what, int r);
/* cli_refuse(), then the refusal on record: the reason comes first, before
 * any warning about the audit log itself. */
int cli_refuse_audited(const char *op, const char *what, int r);
/* A bundle from a file or a store id, its signature checked. */
int cli_load_bundle(const char *arg, bool insecure, struct bundle **ret);
/* Parses a duration like "10", "2.5s", "500ms". */
int cli_parse_duration(const char *s, int64_t *ret_ns);
int cli_parse_pid(const char *s, pid_t *ret);
/* Is there a process @pid (bad input otherwise: exit 2)? */
bool cli_process_exists(pid_t pid);
bool cli_looks_like_id(const char *s);
/* Is another build than @b's target now at its target's path (a package
 * upgrade replaced it)? Then processes carrying @b are caught up, and its
 * fixed file must not be committed: it would undo the upgrade. */
bool cli_target_replaced(const struct bundle *b);

/* Runs @fn for every pid on @jobs OS threads; @done sees each report, in
 * completion order, one at a time. */
typedef void (*pool_fn)(pid_t pid, void *arg, struct engine_report *rep);
typedef void (*pool_done_fn)(const struct engine_report *rep, void *arg);
int pool_run(const pid_t *pids, size_t n, unsigned jobs, pool_fn fn, pool_done_fn done, void *arg);
unsigned pool_default_jobs(void);
