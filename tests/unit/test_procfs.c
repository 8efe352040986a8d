/* SPDX-License-Identifier: MIT */
/* procfs.c, on the test process itself: what hotpatch reads from /proc must
 * match what we know about ourselves. */
#include "procfs.h"

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/mman.h>

#include "clock.h"
#include "test.h"

static int local_function(int x)
{
	return x * 3;
}

TEST(maps_sorted_and_disjoint)
{
	struct proc_maps m;

	ASSERT_OK(proc_maps_read(getpid(), &m));
	ASSERT_TRUE(m.n > 3);
	for (size_t i = 0; i < m.n; i++) {
		ASSERT_TRUE(m.v[i].start < m.v[i].end);
		if (i)
			ASSERT_TRUE(m.v[i - 1].end <= m.v[i].start);
	}
	proc_maps_free(&m);
	ASSERT_NULL(m.v);
	ASSERT_EQ(m.n, 0);
}

TEST(maps_find_own_code)
{
	uint64_t addr = (uint64_t)(uintptr_t)local_function;
	const struct map_entry *e;
	struct proc_maps m;
	char exe[PATH_MAX];
	ssize_t n;

	ASSERT_EQ(local_function(2), 6);
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	ASSERT_TRUE(n > 0);
	exe[n] = '\0';
	ASSERT_OK(proc_maps_read(getpid(), &m));
	e = proc_maps_find(&m, addr);
	ASSERT_NOT_NULL(e);
	ASSERT_TRUE(e->start <= addr && addr < e->end);
	ASSERT_TRUE(e->prot & PROT_EXEC);
	ASSERT_FALSE(e->prot & PROT_WRITE);
	ASSERT_FALSE(e->shared);
	ASSERT_FALSE(e->deleted);
	ASSERT_STREQ(e->path, exe);
	ASSERT_NE(e->inode, 0);
	proc_maps_free(&m);
}

TEST(maps_anonymous_mapping)
{
	const size_t len = 3 * 4096;
	const struct map_entry *e;
	struct proc_maps m;
	uint8_t *p;

	/* PROT_READ only, so it does not merge with a read-write neighbour. */
	p = mmap(NULL, len, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_TRUE(p != MAP_FAILED);
	ASSERT_OK(proc_maps_read(getpid(), &m));
	e = proc_maps_find(&m, (uintptr_t)p + 4096);
	ASSERT_NOT_NULL(e);
	ASSERT_TRUE(e->start <= (uintptr_t)p && e->end >= (uintptr_t)p + len);
	ASSERT_EQ(e->prot, PROT_READ);
	ASSERT_NULL(e->path);
	ASSERT_EQ(e->inode, 0);
	proc_maps_free(&m);
	munmap(p, len);
}

TEST(maps_deleted_file_with_spaces)
{
	const char *dir = test_tmpdir();
	const struct map_entry *e;
	struct proc_maps m;
	char path[PATH_MAX];
	void *p;
	int fd;

	/* Spaces in the name and " (deleted)" after it both end up in the same
	 * last field of the maps line. */
	snprintf(path, sizeof(path), "%s/a file  name", dir);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	ASSERT_TRUE(fd >= 0);
	ASSERT_EQ(ftruncate(fd, 4096), 0);
	p = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0);
	close(fd);
	ASSERT_TRUE(p != MAP_FAILED);
	ASSERT_EQ(unlink(path), 0);
	ASSERT_OK(proc_maps_read(getpid(), &m));
	e = proc_maps_find(&m, (uintptr_t)p);
	ASSERT_NOT_NULL(e);
	ASSERT_TRUE(e->deleted);
	ASSERT_TRUE(e->shared);
	ASSERT_STREQ(e->path, path);
	proc_maps_free(&m);
	munmap(p, 4096);
}

/* Maps @name (in a temp dir) into memory; @ret_seen gets the path that
 * proc_maps_read() reports for it. */
static void mapped_path(const char *name, char *ret_path, char *ret_seen, size_t len)
{
	const struct map_entry *e;
	struct proc_maps m;
	void *p;
	int fd;

	snprintf(ret_path, len, "%s/%s", test_tmpdir(), name);
	fd = open(ret_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	ASSERT_TRUE(fd >= 0);
	ASSERT_EQ(ftruncate(fd, 4096), 0);
	p = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	ASSERT_TRUE(p != MAP_FAILED);
	ASSERT_OK(proc_maps_read(getpid(), &m));
	e = proc_maps_find(&m, (uintptr_t)p);
	ASSERT_NOT_NULL(e);
	snprintf(ret_seen, len, "%s", e->path ? e->path : "(anonymous)");
	proc_maps_free(&m);
	munmap(p, 4096);
}

TEST(maps_path_with_trailing_space)
{
	char path[PATH_MAX], seen[PATH_MAX];

	/* A file name may end in a space; the mapping is still that file. */
	mapped_path("lib ", path, seen, sizeof(path));
	ASSERT_STREQ(seen, path);
}

TEST(maps_find_binary_search)
{
	struct map_entry v[] = {
		{.start = 0x1000, .end = 0x2000},
		{.start = 0x3000, .end = 0x5000},
		{.start = 0x5000, .end = 0x6000},
		{.start = 0x10000, .end = 0x11000},
	};
	struct proc_maps m = {.v = v, .n = 4}, empty = {0};

	ASSERT_TRUE(proc_maps_find(&m, 0x1000) == &v[0]);
	ASSERT_TRUE(proc_maps_find(&m, 0x1fff) == &v[0]);
	ASSERT_NULL(proc_maps_find(&m, 0x2000)); /* end is exclusive */
	ASSERT_NULL(proc_maps_find(&m, 0x0));
	ASSERT_NULL(proc_maps_find(&m, 0xfff));
	ASSERT_TRUE(proc_maps_find(&m, 0x4fff) == &v[1]);
	ASSERT_TRUE(proc_maps_find(&m, 0x5000) == &v[2]);
	ASSERT_NULL(proc_maps_find(&m, 0x6000));
	ASSERT_TRUE(proc_maps_find(&m, 0x10fff) == &v[3]);
	ASSERT_NULL(proc_maps_find(&m, UINT64_MAX));
	ASSERT_NULL(proc_maps_find(&empty, 0x1000));
}

TEST(maps_find_many_entries)
{
	const size_t n = 1001;
	struct map_entry *v = calloc(n, sizeof(*v));
	struct proc_maps m = {.v = v, .n = n};

	/* Every third page mapped: check each entry's edges and the holes. */
	for (size_t i = 0; i < n; i++) {
		v[i].start = 0x10000 + i * 0x3000;
		v[i].end = v[i].start + 0x1000;
	}
	for (size_t i = 0; i < n; i++) {
		ASSERT_TRUE(proc_maps_find(&m, v[i].start) == &v[i]);
		ASSERT_TRUE(proc_maps_find(&m, v[i].end - 1) == &v[i]);
		ASSERT_NULL(proc_maps_find(&m, v[i].end));
		ASSERT_NULL(proc_maps_find(&m, v[i].start - 1));
	}
	free(v);
}

TEST(maps_of_missing_process)
{
	struct proc_maps m = {0};

	ASSERT_ERR(proc_maps_read(INT32_MAX, &m), -ESRCH);
	ASSERT_NULL(m.v);
}

struct sleeper {
	int pipe[2];
	pid_t tid;
};

static void *sleeper_main(void *arg)
{
	struct sleeper *s = arg;
	char c;

	__atomic_store_n(&s->tid, gettid(), __ATOMIC_RELEASE);
	/* Blocks until the test closes the write end. */
	if (read(s->pipe[0], &c, 1) < 0)
		return NULL;
	return NULL;
}

static void sleeper_start(struct sleeper *s, pthread_t *t)
{
	ASSERT_EQ(pipe2(s->pipe, O_CLOEXEC), 0);
	s->tid = 0;
	ASSERT_EQ(pthread_create(t, NULL, sleeper_main, s), 0);
	while (!__atomic_load_n(&s->tid, __ATOMIC_ACQUIRE))
		usleep(1000);
}

static void sleeper_stop(struct sleeper *s, pthread_t t)
{
	close(s->pipe[1]);
	pthread_join(t, NULL);
	close(s->pipe[0]);
}

static bool has_tid(const pid_t *v, size_t n, pid_t tid)
{
	for (size_t i = 0; i < n; i++)
		if (v[i] == tid)
			return true;
	return false;
}

TEST(tasks_lists_every_thread_sorted)
{
	struct sleeper s;
	pthread_t t;
	pid_t *v = NULL;
	size_t n = 0;

	sleeper_start(&s, &t);
	ASSERT_OK(proc_tasks(getpid(), &v, &n));
	ASSERT_TRUE(n >= 2);
	ASSERT_TRUE(has_tid(v, n, gettid()));
	ASSERT_TRUE(has_tid(v, n, s.tid));
	ASSERT_TRUE(has_tid(v, n, getpid()));
	for (size_t i = 1; i < n; i++)
		ASSERT_TRUE(v[i - 1] < v[i]);
	free(v);
	sleeper_stop(&s, t);
}

TEST(tasks_of_missing_process)
{
	pid_t *v = NULL;
	size_t n = 0;

	ASSERT_ERR(proc_tasks(INT32_MAX, &v, &n), -ESRCH);
}

TEST(thread_states)
{
	struct sleeper s;
	pthread_t t;
	char state = '?';

	/* We are running while we look at ourselves. */
	ASSERT_EQ(proc_thread_state(getpid(), gettid()), 'R');
	sleeper_start(&s, &t);
	/* The sleeper ends up blocked in read(): 'S'. */
	for (int i = 0; i < 2000 && state != 'S'; i++) {
		state = proc_thread_state(getpid(), s.tid);
		usleep(1000);
	}
	ASSERT_EQ(state, 'S');
	sleeper_stop(&s, t);
	ASSERT_EQ(proc_thread_state(getpid(), INT32_MAX), '?');
}

static int64_t thread_cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (int64_t)ts.tv_sec * NSEC_PER_SEC + ts.tv_nsec;
}

TEST(thread_runtime)
{
	struct sleeper s;
	pthread_t t;
	uint64_t before = proc_thread_runtime_ns(getpid(), gettid()), mine, theirs;
	volatile uint64_t spin = 0;
	int64_t until;

	sleeper_start(&s, &t);
	/* 20 ms of our own CPU (the thread's CPU clock, not the wall clock:
	 * on a loaded host 20 ms of wall time may hold little CPU); the
	 * sleeper sits in read() meanwhile. */
	until = thread_cpu_ns() + 20 * NSEC_PER_MSEC;
	while (thread_cpu_ns() < until)
		spin++;
	mine = proc_thread_runtime_ns(getpid(), gettid());
	theirs = proc_thread_runtime_ns(getpid(), s.tid);
	ASSERT_TRUE(mine > before);
	ASSERT_TRUE(mine - before >= 5 * NSEC_PER_MSEC);
	ASSERT_TRUE(theirs < mine);
	sleeper_stop(&s, t);
	ASSERT_EQ(proc_thread_runtime_ns(getpid(), INT32_MAX), 0);
}

TEST(exited_sees_zombie_and_reaped)
{
	int status;
	pid_t child;

	ASSERT_FALSE(proc_exited(getpid()));
	child = fork();
	ASSERT_TRUE(child >= 0);
	if (child == 0)
		_exit(0);
	/* Not reaped yet: a zombie, which counts as exited. */
	for (int i = 0; i < 2000 && proc_thread_state(child, child) != 'Z'; i++)
		usleep(1000);
	ASSERT_EQ(proc_thread_state(child, child), 'Z');
	ASSERT_TRUE(proc_exited(child));
	ASSERT_EQ(waitpid(child, &status, 0), child);
	ASSERT_TRUE(proc_exited(child));
}

TEST(status_fields_of_self)
{
	pid_t tracer = -1;
	uid_t uid = (uid_t)-1;
	char comm[32];

	ASSERT_OK(proc_tracer(getpid(), &tracer));
	ASSERT_EQ(tracer, 0);
	ASSERT_OK(proc_uid(getpid(), &uid));
	ASSERT_EQ(uid, geteuid());
	ASSERT_OK(proc_comm(getpid(), comm, sizeof(comm)));
	ASSERT_STREQ(comm, "test_procfs");
	ASSERT_TRUE(proc_tracer(INT32_MAX, &tracer) < 0);
}

TEST(list_pids_has_child_not_self)
{
	pid_t child, *v = NULL;
	size_t n = 0;
	int status;

	child = fork();
	ASSERT_TRUE(child >= 0);
	if (child == 0) {
		pause();
		_exit(0);
	}
	ASSERT_OK(proc_list_pids(&v, &n));
	kill(child, SIGKILL);
	waitpid(child, &status, 0);
	ASSERT_TRUE(has_tid(v, n, child));
	ASSERT_FALSE(has_tid(v, n, getpid()));
	free(v);
}

TEST(mem_read_write_round_trip)
{
	volatile uint8_t buf[64];
	uint8_t out[64], in[64];
	int fd;

	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)i;
	fd = proc_mem_open(getpid(), true);
	ASSERT_OK(fd);
	ASSERT_OK(proc_mem_read(fd, (uintptr_t)buf, out, sizeof(out)));
	ASSERT_MEMEQ(out, (const uint8_t *)buf, sizeof(out));
	memset(in, 0x5a, sizeof(in));
	ASSERT_OK(proc_mem_write(fd, (uintptr_t)buf + 8, in, 16));
	for (size_t i = 0; i < sizeof(buf); i++)
		ASSERT_EQ(buf[i], i >= 8 && i < 24 ? 0x5a : i);
	close(fd);
}

TEST(mem_write_to_read_only_page)
{
	const uint8_t jmp[5] = {0xe9, 1, 2, 3, 4};
	uint8_t *p;
	int fd;

	/* How patches are written: through /proc/PID/mem into pages the
	 * process itself cannot write. The page stays read-only. */
	p = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_TRUE(p != MAP_FAILED);
	fd = proc_mem_open(getpid(), true);
	ASSERT_OK(fd);
	ASSERT_OK(proc_mem_write(fd, (uintptr_t)p + 100, jmp, sizeof(jmp)));
	ASSERT_MEMEQ(p + 100, jmp, sizeof(jmp));
	ASSERT_EQ(p[99], 0);
	close(fd);
	munmap(p, 4096);
}

TEST(mem_unmapped_address_fails)
{
	uint8_t b[8];
	uint8_t *p;
	int fd;

	p = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_TRUE(p != MAP_FAILED);
	munmap(p, 4096);
	fd = proc_mem_open(getpid(), false);
	ASSERT_OK(fd);
	hp_err_clear();
	ASSERT_TRUE(proc_mem_read(fd, (uintptr_t)p, b, sizeof(b)) < 0);
	ASSERT_CONTAINS(hp_err_msg(-EIO), "cannot read 8 bytes");
	/* Read-only fd: writes are refused. */
	ASSERT_TRUE(proc_mem_write(fd, (uintptr_t)b, b, sizeof(b)) < 0);
	close(fd);
	ASSERT_ERR(proc_mem_open(INT32_MAX, false), -ESRCH);
}
