/* SPDX-License-Identifier: MIT */
/*
 * What differs between the two platforms the engine runs on, x86-64 and
 * arm64, in one place: how a stopped thread's registers are read and
 * written, what a system call looks like, how an interrupted call is told
 * apart, and which words can be code addresses. arch_x86_64.c and
 * arch_aarch64.c implement it; meson builds the host's one. Everything
 * else in the engine is the same source on both (docs/design.md, "Two
 * platforms"). The register set is glibc's struct user_regs_struct of the
 * host (x86-64: rax ... rip; arm64: regs[31], sp, pc, pstate).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/user.h>

/* The redirecting jump written over a function's first instruction(s):
 * x86-64 `jmp rel32` (5 bytes, +-2 GiB), arm64 `b` (one 4-byte word,
 * +-128 MiB, written in one aligned store). ARCH_JUMP_REACH is how far
 * either way it reaches; ARCH_USER_TOP the end of user addresses; ARCH_ELF_MACHINE the
 * e_machine of the code this build reads and patches. */
#if defined(__x86_64__)
#define ARCH_JUMP_SIZE 5
#define ARCH_JUMP_REACH (1ULL << 31)
#define ARCH_JUMP_REACH_TEXT "2 GiB"
#define ARCH_ELF_MACHINE 62 /* EM_X86_64 */
#define ARCH_USER_TOP 0x7ffffffff000ULL
#elif defined(__aarch64__)
#define ARCH_JUMP_SIZE 4
#define ARCH_JUMP_REACH (1ULL << 27)
#define ARCH_JUMP_REACH_TEXT "128 MiB"
#define ARCH_ELF_MACHINE 183 /* EM_AARCH64 */
#define ARCH_USER_TOP 0xfffffffff000ULL
#else
#error "hotpatch runs on x86-64 and arm64"
#endif

/* The platform's name in messages: "x86-64" or "arm64". */
extern const char arch_name[];

/* The system call instruction (x86-64 `syscall`, arm64 `svc #0`), its
 * length, and the alignment every instruction has (1 or 4). */
extern const uint8_t arch_syscall_insn[];
extern const size_t arch_syscall_insn_len;
extern const size_t arch_insn_align;

/* A stopped thread's general registers. 0, or a negative errno with errno
 * set (x86-64 PTRACE_GETREGS; arm64 PTRACE_GETREGSET with NT_PRSTATUS). */
int arch_regs_get(pid_t tid, struct user_regs_struct *r);
int arch_regs_set(pid_t tid, const struct user_regs_struct *r);

uint64_t arch_pc(const struct user_regs_struct *r);
void arch_set_pc(struct user_regs_struct *r, uint64_t pc);
uint64_t arch_sp(const struct user_regs_struct *r);
/* The return address a function has not saved on the stack yet (arm64's
 * link register x30), or false where calls push it (x86-64). */
bool arch_link_reg(const struct user_regs_struct *r, uint64_t *ret);

/* The system call a thread stopped in will make again when resumed (its
 * number), or -1 when it is in none or the registers cannot tell: x86-64
 * keeps it in orig_rax; arm64's kernel has already rewound the pc to the
 * `svc` and forgotten the number when a ptrace stop is reported, so there
 * it is always -1. */
long arch_syscall_nr(const struct user_regs_struct *r);
/* arm64 only: make the call a thread was blocked in when our stop woke it
 * with a plain EINTR be made again, from what /proc/PID/task/TID/syscall
 * showed before the stop (@nr, @args, @pc_after: the pc after its `svc`).
 * When @r shows that same call returning -EINTR (x8 and x1-x5 unchanged,
 * the pc where it was), x0 gets its first argument back and the pc goes
 * back onto the `svc`; true then. x86-64 needs none of it (orig_rax,
 * threads.h thread_restartable()) and always says false. */
#if defined(__aarch64__)
#define ARCH_RESTART_BY_REWIND 1
#else
#define ARCH_RESTART_BY_REWIND 0
#endif
bool arch_syscall_rewind(struct user_regs_struct *r, long nr, const uint64_t args[6],
			 uint64_t pc_after);
/* A system call's result, in a syscall-exit stop or after a stop. */
long arch_syscall_ret(const struct user_regs_struct *r);
void arch_set_syscall_ret(struct user_regs_struct *r, long v);
/* @r set to make system call @nr with @a at the instruction at @insn_at,
 * with nothing the kernel would take for a call to restart. */
void arch_syscall_load(struct user_regs_struct *r, uint64_t insn_at, long nr, const long a[6]);

/* The jump at @from to @to into @out; -ERANGE if out of reach (or, on
 * arm64, not 4-byte aligned). */
int arch_jump_encode(uint64_t from, uint64_t to, uint8_t out[ARCH_JUMP_SIZE]);
/* Do the ARCH_JUMP_SIZE @bytes at @at hold such a jump, and to where? */
bool arch_jump_decode(const uint8_t *bytes, uint64_t at, uint64_t *ret_dest);

/* A word found on a stack as the code address it may be: arm64 return
 * addresses are signed (pointer authentication) and carry the signature
 * in their top bits; x86-64 words are taken as they are. */
uint64_t arch_code_addr(uint64_t word);

/* The registers libdwfl starts an unwind from: @n DWARF registers from
 * number 0 into @out (at most @max), and the pc. */
size_t arch_dwarf_regs(const struct user_regs_struct *r, uint64_t *out, size_t max,
		       uint64_t *pc);
