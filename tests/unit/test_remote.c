/* SPDX-License-Identifier: MIT */
/* remote.c on a real child, on either platform: system calls made through
 * its borrowed thread return its own results, and the call it was blocked
 * in when stopped carries on as if it had never been stopped (x86-64 by
 * orig_rax, arm64 by the pc the kernel rewound onto its `svc`). */
#include "remote.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>

#include "clock.h"
#include "procfs.h"
#include "test.h"

/* A child blocked in read() on a pipe; it exits 0 once it reads 'x'. */
static pid_t blocked_child(int fds[2])
{
	pid_t pid;
	char c = 0;

	if (pipe(fds) < 0)
		return -1;
	pid = fork();
	if (pid == 0) {
		close(fds[1]);
		_exit(read(fds[0], &c, 1) == 1 && c == 'x' ? 0 : 1);
	}
	close(fds[0]);
	usleep(100 * 1000); /* into its read(); any earlier stop must work too */
	return pid;
}

TEST(calls_through_a_borrowed_thread)
{
	struct proc_maps maps;
	struct remote rm;
	int fds[2], status, memfd;
	long ret = 0, page = 0;
	uint8_t byte = 1;
	pid_t pid = blocked_child(fds);

	ASSERT_TRUE(pid > 0);
	ASSERT_OK(proc_maps_read(pid, &maps));
	memfd = proc_mem_open(pid, false);
	ASSERT_TRUE(memfd >= 0);
	ASSERT_OK(remote_attach(&rm, pid, memfd, &maps, now_ns() + 10 * NSEC_PER_SEC));

	ASSERT_OK(remote_syscall(&rm, SYS_getpid, 0, 0, 0, 0, 0, 0, &ret));
	ASSERT_EQ(ret, pid);
	ASSERT_OK(remote_syscall(&rm, SYS_mmap, 0, 4096, PROT_READ | PROT_WRITE,
				 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0, &page));
	ASSERT_TRUE(page > 0 && page % 4096 == 0);
	/* The page is the child's: it reads as zero from outside. */
	ASSERT_OK(proc_mem_read(memfd, (uint64_t)page, &byte, 1));
	ASSERT_EQ(byte, 0);
	ASSERT_OK(remote_syscall(&rm, SYS_munmap, page, 4096, 0, 0, 0, 0, &ret));
	ASSERT_EQ(ret, 0);
	/* A failing call gives its -errno as the result. */
	ASSERT_OK(remote_syscall(&rm, SYS_close, 9999, 0, 0, 0, 0, 0, &ret));
	ASSERT_EQ(ret, -EBADF);
	ASSERT_EQ(rm.ncalls, 4);
	ASSERT_OK(remote_detach(&rm));
	close(memfd);
	proc_maps_free(&maps);

	/* Its read() was made again, not failed with EINTR. */
	ASSERT_EQ(write(fds[1], "x", 1), 1);
	ASSERT_EQ(waitpid(pid, &status, 0), pid);
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(WEXITSTATUS(status), 0);
	close(fds[1]);
}
