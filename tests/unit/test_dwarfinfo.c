/* SPDX-License-Identifier: MIT */
/* dwarfinfo_cu_path(): the source file an object was compiled from, by its
 * full path. A package that builds flavours (liblzma's normal and static
 * builds) compiles one source from several build directories, each naming
 * it ../src/x.c: one source file, one path. A vendored copy of the same
 * name elsewhere in the tree stays another file. */
#include <sys/stat.h>

#include "dwarfinfo.h"
#include "error.h"
#include "test.h"

static void cu_path(const char *dir, const char *obj, char *ret, size_t len)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", dir, obj);
	ASSERT_OK(dwarfinfo_cu_path(path, ret, len));
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
	cu_path(dir, "build-a/sub/x.o", a, sizeof(a));
	cu_path(dir, "build-b/x.o", b, sizeof(b));
	cu_path(dir, "top.o", top, sizeof(top));
	cu_path(dir, "vendored.o", vendored, sizeof(vendored));
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
	snprintf(p, sizeof(p), "%s/y.o", dir);
	ASSERT_EQ(dwarfinfo_cu_path(p, p, sizeof(p)), -ENOENT);
	hp_err_clear();
}
