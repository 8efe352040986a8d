/* SPDX-License-Identifier: MIT */
/* remote.c on a real child, on either platform: system calls made through
 * its borrowed thread return its own results, and the call it was blocked
 * in when stopped carries on as if it had never been stopped (x86-64 by
 * orig_rax, arm64 by the pc the kernel rewound onto its `svc`), even a call
 * that returns a plain EINTR when stopped (epoll_pwait), after a borrowed
 * thread and after a stop of all threads (threads.c); but a real signal
 * that arrives meanwhile still interrupts it. */
#include "remote.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>

#include "clock.h"
#include "procfs.h"
#include "test.h"
#include "threads.h"

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

/* A remote session on @pid, its maps and memory file opened for it. */
static void borrow(pid_t pid, struct remote *rm, struct proc_maps *maps, int *memfd)
{
	ASSERT_TRUE(pid > 0);
	ASSERT_OK(proc_maps_read(pid, maps));
	*memfd = proc_mem_open(pid, false);
	ASSERT_TRUE(*memfd >= 0);
	ASSERT_OK(remote_attach(rm, pid, *memfd, maps, now_ns() + 10 * NSEC_PER_SEC));
}

static void give_back(struct remote *rm, struct proc_maps *maps, int memfd)
{
	ASSERT_OK(remote_detach(rm));
	close(memfd);
	proc_maps_free(maps);
}

TEST(calls_through_a_borrowed_thread)
{
	struct proc_maps maps;
	struct remote rm;
	int fds[2], status, memfd;
	long ret = 0, page = 0;
	uint8_t byte = 1;
	pid_t pid = blocked_child(fds);

	borrow(pid, &rm, &maps, &memfd);

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
	give_back(&rm, &maps, memfd);

	/* Its read() was made again, not failed with EINTR. */
	ASSERT_EQ(write(fds[1], "x", 1), 1);
	ASSERT_EQ(waitpid(pid, &status, 0), pid);
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(WEXITSTATUS(status), 0);
	close(fds[1]);
}

static volatile sig_atomic_t got_usr1;

static void on_usr1(int sig)
{
	(void)sig;
	got_usr1 = 1;
}

/* A child blocked in epoll_pwait() on a pipe with no timeout, with a
 * SIGUSR1 handler (no SA_RESTART): it exits 0 once the call says the pipe
 * is readable, 3 if the call failed with EINTR after the handler ran, 1 on
 * anything else (EINTR alone: the stop was seen). */
static pid_t epoll_child(int fds[2])
{
	pid_t pid;

	if (pipe(fds) < 0)
		return -1;
	pid = fork();
	if (pid == 0) {
		struct epoll_event ev = {.events = EPOLLIN}, got;
		struct sigaction sa = {.sa_handler = on_usr1};
		int ep = epoll_create1(0), n;

		close(fds[1]);
		if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, fds[0], &ev) < 0 ||
		    sigaction(SIGUSR1, &sa, NULL) < 0)
			_exit(2);
		n = epoll_pwait(ep, &got, 1, -1, NULL);
		_exit(n == 1 ? 0 : n < 0 && errno == EINTR && got_usr1 ? 3 : 1);
	}
	usleep(100 * 1000); /* into its epoll_pwait() */
	return pid;
}

/* The pipe made readable: how the child's call ended (epoll_child()). The
 * read end stays open here, so the write never meets a closed pipe. */
static int epoll_outcome(pid_t pid, int fds[2])
{
	int status;

	ASSERT_EQ(write(fds[1], "x", 1), 1);
	ASSERT_EQ(waitpid(pid, &status, 0), pid);
	ASSERT_TRUE(WIFEXITED(status));
	close(fds[0]);
	close(fds[1]);
	return WEXITSTATUS(status);
}

TEST(plain_eintr_call_made_again_after_a_borrowed_thread)
{
	struct proc_maps maps;
	struct remote rm;
	int fds[2], memfd;
	long ret = 0;
	pid_t pid = epoll_child(fds);

	borrow(pid, &rm, &maps, &memfd);
	ASSERT_OK(remote_syscall(&rm, SYS_getpid, 0, 0, 0, 0, 0, 0, &ret));
	ASSERT_EQ(ret, pid);
	give_back(&rm, &maps, memfd);
	ASSERT_EQ(epoll_outcome(pid, fds), 0);
}

/* epoll_child()'s outcome after a stop of all its threads and their
 * release, with @sig sent to it while stopped (0: none). */
static int outcome_after_a_stop(int sig)
{
	struct threads ts = {0};
	int fds[2];
	pid_t pid = epoll_child(fds);

	ASSERT_TRUE(pid > 0);
	ASSERT_OK(threads_seize(&ts, pid));
	ASSERT_OK(threads_stop(&ts, now_ns() + 10 * NSEC_PER_SEC, NULL));
	ASSERT_EQ(ts.n, 1);
	ASSERT_TRUE(ts.v[0].stopped);
	if (sig)
		ASSERT_EQ(syscall(SYS_tgkill, pid, pid, sig), 0);
	threads_release(&ts);
	threads_free(&ts);
	return epoll_outcome(pid, fds);
}

TEST(plain_eintr_call_made_again_after_a_stop)
{
	ASSERT_EQ(outcome_after_a_stop(0), 0);
}

/* A signal sent while the thread is stopped may be what woke its call (a
 * tool cannot tell): the call returns EINTR to the handler's program, as
 * it would have without the stop. */
TEST(plain_eintr_call_keeps_a_real_signals_eintr)
{
	ASSERT_EQ(outcome_after_a_stop(SIGUSR1), 3);
}
