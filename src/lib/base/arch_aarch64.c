/* SPDX-License-Identifier: MIT */
/* arm64's side of arch.h. */
#include "arch.h"

#include <elf.h>
#include <errno.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/uio.h>

/* Top bits above the 48-bit user address space: a signed return address
 * carries its pointer authentication code there (and top-byte tags would
 * sit in bits 56-63); no user code address has them set. */
#define USER_VA_BITS 48

const char arch_name[] = "arm64";
/* `svc #0`, little-endian. */
const uint8_t arch_syscall_insn[] = {0x01, 0x00, 0x00, 0xd4};
const size_t arch_syscall_insn_len = sizeof(arch_syscall_insn);
const size_t arch_insn_align = 4;

int arch_regs_get(pid_t tid, struct user_regs_struct *r)
{
	struct iovec io = {r, sizeof(*r)};

	return ptrace(PTRACE_GETREGSET, tid, (void *)NT_PRSTATUS, &io) < 0 ? -errno : 0;
}

int arch_regs_set(pid_t tid, const struct user_regs_struct *r)
{
	struct iovec io = {(void *)r, sizeof(*r)};

	return ptrace(PTRACE_SETREGSET, tid, (void *)NT_PRSTATUS, &io) < 0 ? -errno : 0;
}

uint64_t arch_pc(const struct user_regs_struct *r)
{
	return r->pc;
}

void arch_set_pc(struct user_regs_struct *r, uint64_t pc)
{
	r->pc = pc;
}

uint64_t arch_sp(const struct user_regs_struct *r)
{
	return r->sp;
}

bool arch_link_reg(const struct user_regs_struct *r, uint64_t *ret)
{
	*ret = arch_code_addr(r->regs[30]);
	return true;
}

long arch_syscall_nr(const struct user_regs_struct *r)
{
	/* The kernel's do_signal() rewinds an interrupted call (pc back on
	 * the `svc`, x0 its first argument again) and forgets its number
	 * before the ptrace stop is reported: resuming the registers as they
	 * are makes the call again, and nothing says which call it was. */
	(void)r;
	return -1;
}

bool arch_syscall_rewind(struct user_regs_struct *r, long nr, const uint64_t args[6],
			 uint64_t pc_after)
{
	if (r->pc != pc_after || r->regs[8] != (unsigned long long)nr ||
	    (long)r->regs[0] != -EINTR)
		return false;
	for (int i = 1; i < 6; i++)
		if (r->regs[i] != args[i])
			return false;
	r->regs[0] = args[0];
	r->pc = pc_after - 4;
	return true;
}

long arch_syscall_ret(const struct user_regs_struct *r)
{
	return (long)r->regs[0];
}

void arch_set_syscall_ret(struct user_regs_struct *r, long v)
{
	r->regs[0] = (unsigned long long)v;
}

void arch_syscall_load(struct user_regs_struct *r, uint64_t insn_at, long nr, const long a[6])
{
	for (int i = 0; i < 6; i++)
		r->regs[i] = (unsigned long long)a[i];
	r->regs[8] = (unsigned long long)nr;
	r->pc = insn_at;
}

/* `b label`: 0b000101 and a signed 26-bit word offset. */
#define B_OPCODE 0x14000000u
#define B_MASK 0xfc000000u
#define B_IMM26 0x03ffffffu

int arch_jump_encode(uint64_t from, uint64_t to, uint8_t out[ARCH_JUMP_SIZE])
{
	int64_t rel = (int64_t)(to - from);
	uint32_t insn;

	if ((from | to) & 3 || rel < -(int64_t)ARCH_JUMP_REACH || rel >= (int64_t)ARCH_JUMP_REACH)
		return -ERANGE;
	insn = B_OPCODE | ((uint32_t)(rel >> 2) & B_IMM26);
	memcpy(out, &insn, 4);
	return 0;
}

bool arch_jump_decode(const uint8_t *bytes, uint64_t at, uint64_t *ret_dest)
{
	uint32_t insn;
	int64_t rel;

	memcpy(&insn, bytes, 4);
	if ((insn & B_MASK) != B_OPCODE)
		return false;
	/* Sign-extend the 26-bit word offset. */
	rel = (int64_t)((int32_t)(insn << 6) >> 6) * 4;
	*ret_dest = at + (uint64_t)rel;
	return true;
}

uint64_t arch_code_addr(uint64_t word)
{
	return word & ((1ULL << USER_VA_BITS) - 1);
}

size_t arch_dwarf_regs(const struct user_regs_struct *r, uint64_t *out, size_t max,
		       uint64_t *pc)
{
	/* DWARF 0-30 are x0-x30, 31 is sp; the pc has no column. */
	size_t n = 0;

	for (; n < max && n < 31; n++)
		out[n] = r->regs[n];
	if (n < max)
		out[n++] = r->sp;
	*pc = r->pc;
	return n;
}
