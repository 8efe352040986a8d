/* SPDX-License-Identifier: MIT */
#include "seccomp.h"

#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/capability.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "error.h"

#ifndef PTRACE_SECCOMP_GET_FILTER
#define PTRACE_SECCOMP_GET_FILTER 0x420c
#endif

#define FILTERS_MAX 64
#define INSNS_MAX BPF_MAXINSNS

struct program {
	struct sock_filter *insn;
	size_t n;
};

struct seccomp_filters {
	struct program v[FILTERS_MAX];
	size_t n;
};

static int seccomp_mode(pid_t pid, pid_t tid)
{
	char path[96], line[128];
	FILE *f;
	int mode = -1;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/status", pid, tid);
	f = fopen(path, "re");
	while (f && fgets(line, sizeof(line), f))
		if (strncmp(line, "Seccomp:", 8) == 0)
			mode = atoi(line + 8);
	if (f)
		fclose(f);
	return mode;
}

/* The kernel's own rule (get_seccomp_filter() in kernel/seccomp.c): the
 * tracer needs CAP_SYS_ADMIN and must run under no filter itself, since it
 * could otherwise read a filter to escape its own. */
int seccomp_filters_readable(void)
{
	struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3};
	struct __user_cap_data_struct d[2] = {0};
	int mode = seccomp_mode(getpid(), (pid_t)syscall(SYS_gettid));

	if (mode != 0)
		return hp_err(-EACCES, "this process runs under a seccomp filter (a container's or a "
				       "unit's SystemCallFilter=), so it cannot read the filters of "
				       "other processes: every process with a filter is refused; run "
				       "it without one (docs/daemon.md, \"Containers\")");
	if (syscall(SYS_capget, &h, d) < 0 ||
	    !(d[CAP_SYS_ADMIN / 32].effective & (1u << (CAP_SYS_ADMIN % 32))))
		return hp_err(-EACCES, "CAP_SYS_ADMIN is missing, so the seccomp filters of other "
				       "processes cannot be read: every process with a filter is "
				       "refused; keep CAP_SYS_ADMIN in the capability bounding set");
	return 0;
}

struct seccomp_filters *seccomp_filters_free(struct seccomp_filters *f)
{
	if (!f)
		return NULL;
	for (size_t i = 0; i < f->n; i++)
		free(f->v[i].insn);
	free(f);
	return NULL;
}

int seccomp_filters_get(pid_t pid, pid_t tid, struct seccomp_filters **ret)
{
	struct seccomp_filters *f;
	int mode = seccomp_mode(pid, tid);

	*ret = NULL;
	if (mode <= 0)
		return 0;
	if (mode == SECCOMP_MODE_STRICT)
		return hp_err(-EPERM, "process %d runs in seccomp strict mode: only read, write and "
				      "exit are allowed; it cannot be patched",
			      pid);
	f = calloc(1, sizeof(*f));
	if (!f)
		return hp_err(-ENOMEM, "out of memory");
	/* Index 0 is the most recently installed filter; all of them run. */
	for (f->n = 0; f->n < FILTERS_MAX; f->n++) {
		long n = ptrace(PTRACE_SECCOMP_GET_FILTER, tid, (void *)f->n, NULL);
		struct program *p = &f->v[f->n];

		if (n < 0 && errno == ENOENT)
			break;
		if (n <= 0 || n > INSNS_MAX) {
			int err = errno;

			seccomp_filters_free(f);
			return hp_err(-EPERM, "process %d has a seccomp filter that cannot be read "
					      "(%s); not patching it blind",
				      pid, strerror(err));
		}
		p->insn = calloc((size_t)n, sizeof(*p->insn));
		if (!p->insn ||
		    ptrace(PTRACE_SECCOMP_GET_FILTER, tid, (void *)f->n, p->insn) != n) {
			free(p->insn);
			seccomp_filters_free(f);
			return hp_err(-EPERM, "process %d: cannot read its seccomp filter", pid);
		}
		p->n = (size_t)n;
	}
	*ret = f;
	return 0;
}

static uint32_t load_word(const struct seccomp_data *d, uint32_t off, bool *bad)
{
	uint32_t v;

	if (off % 4 || off + 4 > sizeof(*d)) {
		*bad = true;
		return 0;
	}
	memcpy(&v, (const uint8_t *)d + off, 4);
	return v;
}

static uint32_t alu(uint16_t op, uint32_t a, uint32_t x, bool *bad)
{
	switch (op) {
	case BPF_ADD: return a + x;
	case BPF_SUB: return a - x;
	case BPF_MUL: return a * x;
	case BPF_DIV: if (!x) *bad = true; return x ? a / x : 0;
	case BPF_MOD: if (!x) *bad = true; return x ? a % x : 0;
	case BPF_OR: return a | x;
	case BPF_AND: return a & x;
	case BPF_XOR: return a ^ x;
	case BPF_LSH: return x < 32 ? a << x : 0;
	case BPF_RSH: return x < 32 ? a >> x : 0;
	case BPF_NEG: return -a;
	default: *bad = true; return 0;
	}
}

static bool jump_taken(uint16_t op, uint32_t a, uint32_t x, bool *bad)
{
	switch (op) {
	case BPF_JEQ: return a == x;
	case BPF_JGT: return a > x;
	case BPF_JGE: return a >= x;
	case BPF_JSET: return (a & x) != 0;
	default: *bad = true; return false;
	}
}

/* Runs one classic BPF program the way the kernel's seccomp does. An
 * instruction we cannot interpret yields KILL: assume the worst. */
static uint32_t run(const struct program *p, const struct seccomp_data *d)
{
	uint32_t a = 0, x = 0, mem[BPF_MEMWORDS] = {0};
	bool bad = false;

	for (size_t pc = 0; pc < p->n && !bad; pc++) {
		const struct sock_filter *i = &p->insn[pc];
		uint32_t src = BPF_SRC(i->code) == BPF_X ? x : i->k;

		switch (BPF_CLASS(i->code)) {
		case BPF_LD:
			if (BPF_MODE(i->code) == BPF_ABS)
				a = load_word(d, i->k, &bad);
			else if (BPF_MODE(i->code) == BPF_IMM)
				a = i->k;
			else if (BPF_MODE(i->code) == BPF_MEM && i->k < BPF_MEMWORDS)
				a = mem[i->k];
			else if (BPF_MODE(i->code) == BPF_LEN)
				a = sizeof(*d);
			else
				bad = true;
			break;
		case BPF_LDX:
			if (BPF_MODE(i->code) == BPF_IMM)
				x = i->k;
			else if (BPF_MODE(i->code) == BPF_MEM && i->k < BPF_MEMWORDS)
				x = mem[i->k];
			else if (BPF_MODE(i->code) == BPF_LEN)
				x = sizeof(*d);
			else
				bad = true;
			break;
		case BPF_ST:
		case BPF_STX:
			if (i->k >= BPF_MEMWORDS)
				bad = true;
			else
				mem[i->k] = BPF_CLASS(i->code) == BPF_ST ? a : x;
			break;
		case BPF_ALU:
			a = alu(BPF_OP(i->code), a, src, &bad);
			break;
		case BPF_JMP:
			if (BPF_OP(i->code) == BPF_JA)
				pc += i->k;
			else
				pc += jump_taken(BPF_OP(i->code), a, src, &bad) ? i->jt : i->jf;
			break;
		case BPF_RET:
			return BPF_RVAL(i->code) == BPF_A ? a : i->k;
		case BPF_MISC:
			if (BPF_MISCOP(i->code) == BPF_TAX)
				x = a;
			else
				a = x;
			break;
		default:
			bad = true;
		}
	}
	return SECCOMP_RET_KILL_PROCESS;
}

/* Lower values of the action bits are more severe (kernel ordering). */
static int severity(uint32_t action)
{
	return (int)(action & SECCOMP_RET_ACTION_FULL);
}

enum seccomp_verdict seccomp_evaluate(const struct seccomp_filters *f, long nr,
				      const long args[6], uint64_t ip, uint32_t *ret_action)
{
	struct seccomp_data d = {.nr = (int)nr, .arch = AUDIT_ARCH_X86_64,
				 .instruction_pointer = ip};
	uint32_t worst = SECCOMP_RET_ALLOW, action;

	for (int i = 0; i < 6; i++)
		d.args[i] = (uint64_t)args[i];
	for (size_t i = 0; f && i < f->n; i++) {
		uint32_t r = run(&f->v[i], &d);

		if (severity(r) < severity(worst))
			worst = r;
	}
	*ret_action = worst;
	action = worst & SECCOMP_RET_ACTION_FULL;
	if (action == SECCOMP_RET_ALLOW || action == SECCOMP_RET_LOG)
		return SECCOMP_VERDICT_ALLOW;
	if (action == SECCOMP_RET_ERRNO)
		return SECCOMP_VERDICT_ERRNO;
	return SECCOMP_VERDICT_DANGER;
}

const char *seccomp_action_name(uint32_t action)
{
	switch (action & SECCOMP_RET_ACTION_FULL) {
	case SECCOMP_RET_KILL_PROCESS: return "kill the process";
	case SECCOMP_RET_KILL_THREAD: return "kill the thread";
	case SECCOMP_RET_TRAP: return "send it SIGSYS";
	case SECCOMP_RET_USER_NOTIF: return "hand the call to its supervisor";
	case SECCOMP_RET_TRACE: return "hand the call to a tracer";
	case SECCOMP_RET_ERRNO: return "fail the call";
	default: return "allow the call";
	}
}
