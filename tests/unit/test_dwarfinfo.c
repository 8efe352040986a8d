/* SPDX-License-Identifier: MIT */
/* dwarfinfo_cu_path(): the source file an object was compiled from, by its
 * full path. A package that builds flavours (liblzma's normal and static
 * builds) compiles one source from several build directories, each naming
 * it ../src/x.c: one source file, one path. A vendored copy of the same
 * name elsewhere in the tree stays another file. */
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "dwarfinfo.h"
#include "error.h"
#include "test.h"

/*
 * dwarfinfo_cu_path() of @dir/@obj, run in a child that ends with _exit():
 * the builder dlopen()s libdw, whose thread-local storage is then dynamic,
 * and LeakSanitizer's exit-time thread scan crashes on it with this glibc
 * (Debian 12: "Tracer caught signal 11", DTLS out of range). The child's
 * answer comes back through a pipe: its return value, then the path.
 */
static int cu_path(const char *dir, const char *obj, char *ret, size_t len)
{
	char path[PATH_MAX];
	int fds[2], r = 0, status;
	pid_t pid;

	snprintf(path, sizeof(path), "%s/%s", dir, obj);
	ASSERT_EQ(pipe(fds), 0);
	fflush(NULL);
	pid = fork();
	ASSERT_TRUE(pid >= 0);
	if (pid == 0) {
		r = dwarfinfo_cu_path(path, ret, len);
		if (write(fds[1], &r, sizeof(r)) != sizeof(r) ||
		    (r == 0 && write(fds[1], ret, strlen(ret) + 1) < 0))
			_exit(2);
		_exit(0);
	}
	close(fds[1]);
	ASSERT_EQ(read(fds[0], &r, sizeof(r)), (ssize_t)sizeof(r));
	if (r == 0) {
		ssize_t n = read(fds[0], ret, len - 1);

		ASSERT_TRUE(n > 0);
		ret[n] = 0;
	}
	close(fds[0]);
	ASSERT_EQ(waitpid(pid, &status, 0), pid);
	ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	return r;
}

TEST(flavours_of_one_source_are_one_path)
{
	const char *dir = test_tmpdir();
	char script[PATH_MAX * 4], want[PATH_MAX], a[PATH_MAX * 2], b[PATH_MAX * 2],
		top[PATH_MAX * 2], vendored[PATH_MAX * 2];

	snprintf(script, sizeof(script),
		 "command -v cc >/dev/null || exit 77; set -e; cd '%s'; "
		 "mkdir -p src deps build-a/sub build-b; "
		 "echo 'int x(int n) { return n + 1; }' > src/x.c; cp src/x.c deps/x.c; "
		 "(cd build-a/sub && cc -g -c ../../src/x.c -o x.o); "
		 "(cd build-b && cc -g -c ./../src/x.c -o x.o); "
		 "cc -g -c src/x.c -o top.o; cc -g -c deps/x.c -o vendored.o",
		 dir);
	test_sh(script, "the test objects");
	snprintf(want, sizeof(want), "%s/src/x.c", dir);
	ASSERT_EQ(cu_path(dir, "build-a/sub/x.o", a, sizeof(a)), 0);
	ASSERT_EQ(cu_path(dir, "build-b/x.o", b, sizeof(b)), 0);
	ASSERT_EQ(cu_path(dir, "top.o", top, sizeof(top)), 0);
	ASSERT_EQ(cu_path(dir, "vendored.o", vendored, sizeof(vendored)), 0);
	ASSERT_STREQ(a, want);
	ASSERT_STREQ(b, want);
	ASSERT_STREQ(top, want);
	ASSERT_TRUE(strcmp(vendored, want) != 0);
}

TEST(a_path_with_no_debug_info_is_enoent)
{
	const char *dir = test_tmpdir();
	char script[PATH_MAX * 2], p[PATH_MAX * 2];

	snprintf(script, sizeof(script),
		 "command -v cc >/dev/null || exit 77; set -e; cd '%s'; "
		 "echo 'int y;' > y.c; cc -g0 -c y.c -o y.o",
		 dir);
	test_sh(script, "the test objects");
	ASSERT_EQ(cu_path(dir, "y.o", p, sizeof(p)), -ENOENT);
}
