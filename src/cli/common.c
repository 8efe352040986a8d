/* SPDX-License-Identifier: MIT */
#include <ctype.h>
#include <errno.h>
#include <linux/capability.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "audit.h"
#include "cli.h"
#include "clock.h"
#include "error.h"
#include "json.h"
#include "paths.h"
#include "store.h"
#include "trust.h"

bool cli_json;

/* With --json, a refusal is also a JSON object on standard output, so that
 * a consumer reading stdout gets an answer whatever happened. */
static void json_refusal(const char *msg)
{
	struct json j = {0};

	if (!cli_json)
		return;
	json_obj_begin(&j);
	json_kv_str(&j, "error", msg);
	json_kv_int(&j, "exit", EXIT_REFUSED);
	json_obj_end(&j);
	printf("%s\n", json_text(&j));
	json_free(&j);
}

int cli_refuse(int r)
{
	fprintf(stderr, "hotpatch: %s\n", hp_err_msg(r));
	json_refusal(hp_err_msg(r));
	return EXIT_REFUSED;
}

void cli_warn(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "hotpatch: warning: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int cli_usage(const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fprintf(stderr, "hotpatch: %s (see `hotpatch --help`)\n", msg);
	json_refusal(msg);
	return EXIT_REFUSED;
}

static bool have_cap_sys_ptrace(void)
{
	struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3};
	struct __user_cap_data_struct d[2] = {0};

	if (syscall(SYS_capget, &h, d) < 0)
		return geteuid() == 0;
	return d[CAP_SYS_PTRACE / 32].effective & (1u << (CAP_SYS_PTRACE % 32));
}

int cli_require_ptrace(const char *what)
{
	if (have_cap_sys_ptrace())
		return 0;
	/* status only reads the processes; apply and revert change them. */
	fprintf(stderr, "hotpatch: %s needs root (CAP_SYS_PTRACE) to %s other processes; "
			"run it with sudo\n",
		what, strcmp(what, "status") == 0 ? "read" : "change");
	return EXIT_REFUSED;
}

int cli_require_root(const char *what)
{
	if (geteuid() == 0)
		return 0;
	fprintf(stderr, "hotpatch: %s needs root: the store and the audit log belong to root; "
			"run it with sudo\n",
		what);
	return EXIT_REFUSED;
}

void cli_audit_refusal(const char *op, const char *what, int r)
{
	char reason[HP_ERR_MAX], msg[HP_ERR_MAX];

	snprintf(msg, sizeof(msg), "%s", hp_err_msg(r));
	snprintf(reason, sizeof(reason), "%s: %s", what, msg);
	audit_log(&(struct audit_event){.op = op, .result = "refused", .reason = reason,
					.pause_us = -1});
	/* A log that cannot be written has its own message: the refusal's
	 * reason stays the one the caller reports. */
	hp_err(r, "%s", msg);
}

int cli_refuse_audited(const char *op, const char *what, int r)
{
	int code = cli_refuse(r);

	cli_audit_refusal(op, what, r);
	return code;
}

bool cli_looks_like_id(const char *s)
{
	size_t n = strlen(s);

	return n >= 4 && n <= BUNDLE_ID_LEN && strspn(s, "0123456789abcdef") == n;
}

int cli_load_bundle(const char *arg, bool insecure, struct bundle **ret)
{
	struct bundle_load_opts o = {.insecure = insecure, .verify = trust_verify_bundle};
	char path[4096];
	int r;

	if (cli_looks_like_id(arg) && access(arg, F_OK) < 0) {
		r = store_lookup(arg, path, sizeof(path));
		if (r < 0)
			return r;
		arg = path;
	}
	if (insecure)
		cli_warn("--insecure: the bundle's signature is not required; use this for local "
			 "development only");
	return bundle_load(arg, &o, ret);
}

int cli_parse_duration(const char *s, int64_t *ret_ns)
{
	char *end;
	double v = strtod(s, &end);

	if (end == s || v < 0)
		return -EINVAL;
	if (!*end || strcmp(end, "s") == 0)
		*ret_ns = (int64_t)(v * NSEC_PER_SEC);
	else if (strcmp(end, "ms") == 0)
		*ret_ns = (int64_t)(v * NSEC_PER_MSEC);
	else if (strcmp(end, "us") == 0)
		*ret_ns = (int64_t)(v * NSEC_PER_USEC);
	else
		return -EINVAL;
	return 0;
}

bool cli_process_exists(pid_t pid)
{
	char path[32];

	snprintf(path, sizeof(path), "/proc/%d", pid);
	return access(path, F_OK) == 0;
}

int cli_parse_pid(const char *s, pid_t *ret)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || v <= 0 || v > 4194304)
		return -EINVAL;
	*ret = (pid_t)v;
	return 0;
}
