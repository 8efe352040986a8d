/* SPDX-License-Identifier: MIT */
/* arch_*.c: the redirecting jump every patch is applied with, and the
 * registers of a real stopped thread, for the platform this runs on. */
#include "arch.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <unistd.h>

#include "clock.h"
#include "procfs.h"
#include "test.h"

#if defined(__x86_64__)
static int32_t rel_of(const uint8_t j[5])
{
	int32_t rel;

	memcpy(&rel, j + 1, 4);
	return rel;
}

TEST(jump_encoding)
{
	uint8_t j[5];
	uint64_t dest = 0;

	ASSERT_OK(arch_jump_encode(0x1000, 0x2000, j));
	ASSERT_EQ(j[0], 0xe9);
	ASSERT_EQ(rel_of(j), 0x2000 - 0x1005);
	ASSERT_MEMEQ(j, "\xe9\xfb\x0f\x00\x00", 5);
	ASSERT_TRUE(arch_jump_decode(j, 0x1000, &dest));
	ASSERT_EQ(dest, 0x2000);

	/* Backwards. */
	ASSERT_OK(arch_jump_encode(0x7f0000002000ULL, 0x7f0000001000ULL, j));
	ASSERT_EQ(rel_of(j), -0x1005);
	ASSERT_TRUE(arch_jump_decode(j, 0x7f0000002000ULL, &dest));
	ASSERT_EQ(dest, 0x7f0000001000ULL);
}

TEST(jump_range_limit)
{
	const uint64_t from = 0x7f0000000000ULL, end = from + 5;
	uint8_t j[5];
	uint64_t dest;

	/* rel32 reaches [end + INT32_MIN, end + INT32_MAX] exactly. */
	ASSERT_OK(arch_jump_encode(from, end + INT32_MAX, j));
	ASSERT_EQ(rel_of(j), INT32_MAX);
	ASSERT_TRUE(arch_jump_decode(j, from, &dest));
	ASSERT_EQ(dest, end + INT32_MAX);
	ASSERT_ERR(arch_jump_encode(from, end + INT32_MAX + 1ULL, j), -ERANGE);

	ASSERT_OK(arch_jump_encode(from, end - 0x80000000ULL, j));
	ASSERT_EQ(rel_of(j), INT32_MIN);
	ASSERT_TRUE(arch_jump_decode(j, from, &dest));
	ASSERT_EQ(dest, end - 0x80000000ULL);
	ASSERT_ERR(arch_jump_encode(from, end - 0x80000001ULL, j), -ERANGE);

	/* Far apart in the address space, both ways. */
	ASSERT_ERR(arch_jump_encode(0x400000, 0x7f0000000000ULL, j), -ERANGE);
	ASSERT_ERR(arch_jump_encode(0x7f0000000000ULL, 0x400000, j), -ERANGE);
}

TEST(is_jump_rejects_other_opcodes)
{
	static const uint8_t call[5] = {0xe8, 0, 0, 0, 0};
	static const uint8_t endbr[5] = {0xf3, 0x0f, 0x1e, 0xfa, 0x55};
	uint64_t dest = 42;

	ASSERT_FALSE(arch_jump_decode(call, 0x1000, &dest));
	ASSERT_FALSE(arch_jump_decode(endbr, 0x1000, &dest));
	ASSERT_EQ(dest, 42); /* untouched */
}
#elif defined(__aarch64__)
static int32_t words_of(const uint8_t j[4])
{
	uint32_t insn;

	memcpy(&insn, j, 4);
	ASSERT_EQ(insn & 0xfc000000u, 0x14000000u); /* `b` */
	return (int32_t)(insn << 6) >> 6;
}

TEST(jump_encoding)
{
	uint8_t j[4];
	uint64_t dest = 0;

	ASSERT_OK(arch_jump_encode(0x1000, 0x2000, j));
	ASSERT_EQ(words_of(j), 0x1000 / 4);
	ASSERT_MEMEQ(j, "\x00\x04\x00\x14", 4); /* b .+0x1000 */
	ASSERT_TRUE(arch_jump_decode(j, 0x1000, &dest));
	ASSERT_EQ(dest, 0x2000);

	/* Backwards. */
	ASSERT_OK(arch_jump_encode(0x7f0000002000ULL, 0x7f0000001000ULL, j));
	ASSERT_EQ(words_of(j), -0x1000 / 4);
	ASSERT_TRUE(arch_jump_decode(j, 0x7f0000002000ULL, &dest));
	ASSERT_EQ(dest, 0x7f0000001000ULL);
}

TEST(jump_range_limit)
{
	const uint64_t from = 0x7f0000000000ULL;
	uint8_t j[4];
	uint64_t dest;

	/* imm26 words reach [from - 128 MiB, from + 128 MiB - 4] exactly. */
	ASSERT_OK(arch_jump_encode(from, from + (128ULL << 20) - 4, j));
	ASSERT_TRUE(arch_jump_decode(j, from, &dest));
	ASSERT_EQ(dest, from + (128ULL << 20) - 4);
	ASSERT_ERR(arch_jump_encode(from, from + (128ULL << 20), j), -ERANGE);

	ASSERT_OK(arch_jump_encode(from, from - (128ULL << 20), j));
	ASSERT_TRUE(arch_jump_decode(j, from, &dest));
	ASSERT_EQ(dest, from - (128ULL << 20));
	ASSERT_ERR(arch_jump_encode(from, from - (128ULL << 20) - 4, j), -ERANGE);

	/* Instructions are words: an unaligned end is refused. */
	ASSERT_ERR(arch_jump_encode(from, from + 2, j), -ERANGE);
	ASSERT_ERR(arch_jump_encode(from + 1, from + 0x100, j), -ERANGE);
}

TEST(is_jump_rejects_other_opcodes)
{
	static const uint8_t bl[4] = {0x00, 0x04, 0x00, 0x94};  /* bl .+0x1000 */
	static const uint8_t bti[4] = {0x5f, 0x24, 0x03, 0xd5}; /* bti c */
	uint64_t dest = 42;

	ASSERT_FALSE(arch_jump_decode(bl, 0x1000, &dest));
	ASSERT_FALSE(arch_jump_decode(bti, 0x1000, &dest));
	ASSERT_EQ(dest, 42); /* untouched */
}
#endif

/* A child stopped in read() on a pipe: its registers read, the pc and
 * stack where they must be, the call made again once it runs (the restart
 * state arch_syscall_nr() describes). */
TEST(registers_of_a_stopped_thread)
{
	struct user_regs_struct r;
	int fds[2], status;
	char c = 0;
	pid_t pid;

	ASSERT_OK(pipe(fds));
	pid = fork();
	if (pid == 0) {
		close(fds[1]);
		_exit(read(fds[0], &c, 1) == 1 && c == 'x' ? 0 : 1);
	}
	close(fds[0]);
	ASSERT_OK(ptrace(PTRACE_SEIZE, pid, NULL, NULL));
	usleep(100 * 1000); /* into its read(); a stop before it is checked too */
	ASSERT_OK(ptrace(PTRACE_INTERRUPT, pid, NULL, NULL));
	ASSERT_EQ(waitpid(pid, &status, 0), pid);
	ASSERT_TRUE(WIFSTOPPED(status));
	ASSERT_OK(arch_regs_get(pid, &r));
	ASSERT_TRUE(arch_pc(&r) != 0);
	ASSERT_TRUE(arch_sp(&r) != 0 && arch_sp(&r) % 8 == 0);
	/* Written back unchanged, it resumes as if never stopped. */
	ASSERT_OK(arch_regs_set(pid, &r));
	ASSERT_OK(ptrace(PTRACE_DETACH, pid, NULL, NULL));
	ASSERT_EQ(write(fds[1], "x", 1), 1);
	ASSERT_EQ(waitpid(pid, &status, 0), pid);
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(WEXITSTATUS(status), 0);
	close(fds[1]);
}

/* Code changed through /proc/PID/mem while the process runs it is what the
 * process runs next: the kernel makes the instruction cache coherent for
 * such writes to executable mappings (arm64: copy_to_user_page() ->
 * flush_ptrace_access()), so the flip needs no cache maintenance of its
 * own. (Under TCG emulation the emulator keeps caches coherent anyway: this
 * proves the path on real arm64 hardware only.) The change is one aligned
 * word on arm64 and one byte on x86-64, as the flip's own store is. */
#if defined(__x86_64__)
static const uint8_t ret1[] = {0xb8, 0x01, 0x00, 0x00, 0x00, 0xc3}; /* mov $1, %eax; ret */
static const uint8_t two[] = {0x02};
#define TWO_AT 1
#else
static const uint8_t ret1[] = {0x20, 0x00, 0x80, 0x52, 0xc0, 0x03, 0x5f, 0xd6}; /* mov w0, #1; ret */
static const uint8_t two[] = {0x40, 0x00, 0x80, 0x52};                         /* mov w0, #2 */
#define TWO_AT 0
#endif

static int run_until_changed(int ready)
{
	uint8_t *code = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	int (*f)(void) = (int (*)(void))(uintptr_t)code;
	int64_t give_up = now_ns() + 60 * NSEC_PER_SEC;

	if (code == MAP_FAILED)
		return 3;
	memcpy(code, ret1, sizeof(ret1));
	__builtin___clear_cache((char *)code, (char *)code + sizeof(ret1));
	if (mprotect(code, 4096, PROT_READ | PROT_EXEC) < 0 ||
	    write(ready, &code, sizeof(code)) != sizeof(code))
		return 3;
	while (f() == 1)
		if (deadline_passed(give_up))
			return 1;
	return f();
}

TEST(code_written_through_proc_mem_runs)
{
	int fds[2], status, memfd;
	uint8_t *code = NULL;
	pid_t pid;

	ASSERT_OK(pipe(fds));
	pid = fork();
	if (pid == 0) {
		close(fds[0]);
		_exit(run_until_changed(fds[1]));
	}
	close(fds[1]);
	ASSERT_EQ(read(fds[0], &code, sizeof(code)), (ssize_t)sizeof(code));
	memfd = proc_mem_open(pid, true);
	ASSERT_TRUE(memfd >= 0);
	ASSERT_OK(proc_mem_write(memfd, (uint64_t)(uintptr_t)code + TWO_AT, two, sizeof(two)));
	ASSERT_EQ(waitpid(pid, &status, 0), pid);
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(WEXITSTATUS(status), 2);
	close(memfd);
	close(fds[0]);
}
