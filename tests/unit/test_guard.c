/* SPDX-License-Identifier: MIT */
/* guard.c's search for the two instruction sequences, on code we lay out
 * ourselves: a file mapped executable in the test process, read through its
 * /proc/self/mem as the tool reads a target's. The search skips to each
 * `syscall` (0f 05) instead of testing every byte; these cases pin what it
 * must still find: the first of each, by address, across the 64 KiB chunks
 * it reads the mapping in. */
#include "guard.h"

#include <fcntl.h>
#include <sys/mman.h>

#include "macro.h"
#include "procfs.h"
#include "test.h"

#define CODE_SIZE (128 * 1024)

static const uint8_t SIGRETURN_EAX[] = {0xb8, 0x0f, 0x00, 0x00, 0x00, 0x0f, 0x05};
static const uint8_t SIGRETURN_RAX[] = {0x48, 0xc7, 0xc0, 0x0f, 0x00, 0x00, 0x00, 0x0f, 0x05};

struct placed {
	size_t at;
	const void *p;
	size_t n;
};

/* @code (CODE_SIZE bytes of int3 and what @v places) mapped executable from
 * a file; the guard found in it, through /proc/self/mem. Returns the search's
 * result; *base is where the code was mapped. */
static int find_in(const struct placed *v, size_t n, struct guard *g, uint64_t *base)
{
	char path[PATH_MAX];
	uint8_t *code = malloc(CODE_SIZE);
	struct stat st;
	void *p;
	int fd, memfd, r;

	ASSERT_NOT_NULL(code);
	memset(code, 0xcc, CODE_SIZE);
	for (size_t i = 0; i < n; i++)
		memcpy(code + v[i].at, v[i].p, v[i].n);
	snprintf(path, sizeof(path), "%s/code", test_tmpdir());
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0700);
	ASSERT_TRUE(fd >= 0);
	ASSERT_EQ(write(fd, code, CODE_SIZE), CODE_SIZE);
	ASSERT_OK(fstat(fd, &st));
	p = mmap(NULL, CODE_SIZE, PROT_READ | PROT_EXEC, MAP_PRIVATE, fd, 0);
	ASSERT_TRUE(p != MAP_FAILED);
	memfd = open("/proc/self/mem", O_RDONLY | O_CLOEXEC);
	ASSERT_TRUE(memfd >= 0);
	struct map_entry e = {.start = (uint64_t)p, .end = (uint64_t)p + CODE_SIZE,
			      .prot = PROT_READ | PROT_EXEC, .inode = st.st_ino, .path = path};
	struct proc_maps maps = {.v = &e, .n = 1};

	r = guard_find(memfd, &maps, g);
	*base = (uint64_t)p;
	close(memfd);
	munmap(p, CODE_SIZE);
	close(fd);
	unlink(path);
	free(code);
	return r;
}

TEST(first_of_each_across_chunks)
{
	static const uint8_t bare[] = {0x0f, 0x05, 0x90, 0xc3};       /* nop: no guard */
	static const uint8_t pops[] = {0x0f, 0x05, 0x31, 0xc0, 0x41, 0x5c, 0x5b, 0xc3};
	static const uint8_t rsp[] = {0x0f, 0x05, 0x5c, 0xc3};        /* pop %rsp: no */
	static const uint8_t near[] = {0xb8, 0x0e, 0x00, 0x00, 0x00, 0x0f, 0x05};
	/* The first rt_sigreturn straddles the end of the first 64 KiB read. */
	const struct placed v[] = {
		{100, rsp, sizeof(rsp)},
		{200, bare, sizeof(bare)},
		{300, near, sizeof(near)},
		{400, pops, sizeof(pops)},
		{500, pops, sizeof(pops)},
		{65536 - 4, SIGRETURN_RAX, sizeof(SIGRETURN_RAX)},
		{70000, SIGRETURN_EAX, sizeof(SIGRETURN_EAX)},
	};
	struct guard g;
	uint64_t base;

	ASSERT_OK(find_in(v, ARRAY_SIZE(v), &g, &base));
	ASSERT_EQ(g.syscall_at, base + 400);
	ASSERT_EQ(g.pops, 2u);
	ASSERT_EQ(g.sigreturn_at, base + 65536 - 4);
}

TEST(eax_form_before_rax_form)
{
	static const uint8_t ret[] = {0x0f, 0x05, 0xc3};
	const struct placed v[] = {
		{8, SIGRETURN_EAX, sizeof(SIGRETURN_EAX)},
		{40, SIGRETURN_RAX, sizeof(SIGRETURN_RAX)},
		{CODE_SIZE - 3, ret, sizeof(ret)},
	};
	struct guard g;
	uint64_t base;

	ASSERT_OK(find_in(v, ARRAY_SIZE(v), &g, &base));
	ASSERT_EQ(g.sigreturn_at, base + 8);
	ASSERT_EQ(g.syscall_at, base + CODE_SIZE - 3);
	ASSERT_EQ(g.pops, 0u);
}

TEST(sequence_at_the_very_start)
{
	const struct placed v[] = {{0, SIGRETURN_EAX, sizeof(SIGRETURN_EAX)}};
	struct guard g;
	uint64_t base;

	/* No `syscall` with a popping epilogue (the sigreturn's own is
	 * followed by int3): not found, whatever else was. */
	ASSERT_EQ(find_in(v, ARRAY_SIZE(v), &g, &base), -ENOENT);
	ASSERT_EQ(g.sigreturn_at, base);
	ASSERT_EQ(g.syscall_at, 0u);
}

TEST(cut_off_at_the_end)
{
	/* An rt_sigreturn whose `syscall` would lie past the mapping's end. */
	static const uint8_t ret[] = {0x0f, 0x05, 0xc3};
	const struct placed v[] = {
		{16, ret, sizeof(ret)},
		{CODE_SIZE - 6, SIGRETURN_EAX, 6},
	};
	struct guard g;
	uint64_t base;

	ASSERT_EQ(find_in(v, ARRAY_SIZE(v), &g, &base), -ENOENT);
	ASSERT_EQ(g.syscall_at, base + 16);
	ASSERT_EQ(g.sigreturn_at, 0u);
}
