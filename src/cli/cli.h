/* SPDX-License-Identifier: MIT */
/* The hotpatch command line: one file per subcommand. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

#include "bundle.h"

struct engine_report;

/* Exit codes: 0 success, 1 an operation failed on some process, 2 a refusal
 * (bad input, trust, permissions, usage).
 *
 * One convention inside a command: a step returns 0 to go on, or the exit
 * code to stop with (EXIT_*, or CLI_DONE after printing help: stop, exit 0),
 * never a negative errno (a step refuses with cli_refuse(), which says why
 * and returns EXIT_REFUSED). */
enum { EXIT_OK = 0, EXIT_FAILED = 1, EXIT_REFUSED = 2, CLI_DONE = 256 };

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

/* Prints what the engine's commit policy decided after an operation
 * (commit_print.c); to stderr when stdout is JSON. */
struct engine_staging;
struct commit_report;
void cli_print_staging(const struct engine_staging *st, bool json);
void cli_print_commit(FILE *f, const char *id, const char *name, const struct commit_report *rep);
/* `apply ID --all` or `revert ID --all` for a stored patch, as other commands
 * need it (enable without the daemon, rollback): the same reports and exit
 * code as the command (cmd_apply.c). */
int cli_run_everywhere(bool revert, const char *id);
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
