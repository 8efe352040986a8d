/* SPDX-License-Identifier: MIT */
/* x86-64's side of arch.h. */
#include "arch.h"

#include <errno.h>
#include <string.h>
#include <sys/ptrace.h>

const char arch_name[] = "x86-64";
const uint8_t arch_syscall_insn[] = {0x0f, 0x05};
const size_t arch_syscall_insn_len = sizeof(arch_syscall_insn);
const size_t arch_insn_align = 1;

int arch_regs_get(pid_t tid, struct user_regs_struct *r)
{
	return ptrace(PTRACE_GETREGS, tid, NULL, r) < 0 ? -errno : 0;
}

int arch_regs_set(pid_t tid, const struct user_regs_struct *r)
{
	return ptrace(PTRACE_SETREGS, tid, NULL, r) < 0 ? -errno : 0;
}

uint64_t arch_pc(const struct user_regs_struct *r)
{
	return r->rip;
}

void arch_set_pc(struct user_regs_struct *r, uint64_t pc)
{
	r->rip = pc;
}

uint64_t arch_sp(const struct user_regs_struct *r)
{
	return r->rsp;
}

bool arch_link_reg(const struct user_regs_struct *r, uint64_t *ret)
{
	(void)r;
	(void)ret;
	return false;
}

long arch_syscall_nr(const struct user_regs_struct *r)
{
	return (long)r->orig_rax;
}

bool arch_syscall_rewind(struct user_regs_struct *r, long nr, const uint64_t args[6],
			 uint64_t pc_after)
{
	(void)r, (void)nr, (void)args, (void)pc_after;
	return false;
}

long arch_syscall_ret(const struct user_regs_struct *r)
{
	return (long)r->rax;
}

void arch_set_syscall_ret(struct user_regs_struct *r, long v)
{
	r->rax = (unsigned long)v;
}

void arch_syscall_load(struct user_regs_struct *r, uint64_t insn_at, long nr, const long a[6])
{
	r->rax = (unsigned long)nr;
	r->rdi = (unsigned long)a[0];
	r->rsi = (unsigned long)a[1];
	r->rdx = (unsigned long)a[2];
	r->r10 = (unsigned long)a[3];
	r->r8 = (unsigned long)a[4];
	r->r9 = (unsigned long)a[5];
	r->rip = insn_at;
	/* No syscall in progress as far as the restart logic is concerned. */
	r->orig_rax = (unsigned long)-1;
}

int arch_jump_encode(uint64_t from, uint64_t to, uint8_t out[ARCH_JUMP_SIZE])
{
	int64_t rel = (int64_t)(to - (from + 5));

	if (rel < INT32_MIN || rel > INT32_MAX)
		return -ERANGE;
	out[0] = 0xe9;
	memcpy(out + 1, &(int32_t){(int32_t)rel}, 4);
	return 0;
}

bool arch_jump_decode(const uint8_t *bytes, uint64_t at, uint64_t *ret_dest)
{
	int32_t rel;

	if (bytes[0] != 0xe9)
		return false;
	memcpy(&rel, bytes + 1, 4);
	*ret_dest = at + 5 + (int64_t)rel;
	return true;
}

uint64_t arch_code_addr(uint64_t word)
{
	return word;
}

size_t arch_dwarf_regs(const struct user_regs_struct *r, uint64_t *out, size_t max,
		       uint64_t *pc)
{
	/* DWARF register numbers 0-16 on x86-64; 16 is the return address
	 * column, which libdwfl takes as the pc. */
	const uint64_t regs[17] = {
		r->rax, r->rdx, r->rcx, r->rbx, r->rsi, r->rdi, r->rbp, r->rsp, r->r8,
		r->r9,  r->r10, r->r11, r->r12, r->r13, r->r14, r->r15, r->rip,
	};
	size_t n = 0;

	for (; n < max && n < 17; n++)
		out[n] = regs[n];
	*pc = r->rip;
	return n;
}
