/* SPDX-License-Identifier: MIT */
/* The completeness check (completeness.c) on two real linked builds: a
 * function that differs but is not replaced is accounted for only when the
 * builder says it is inlined into one the bundle replaces; otherwise it is
 * unaccounted, and with collect it comes back as a refusal naming its full
 * source path, so the fix that changed that file can be blamed. */
#include <sys/stat.h>

#include "completeness.h"
#include "error.h"
#include "test.h"

/* helper() is global, so it keeps an out-of-line copy, and small, so it is
 * inlined into caller(); the fix changes it. */
static const char prog_old[] = "int helper(int x) { return x + 1; }\n"
			       "__attribute__((noinline)) int caller(int x) "
			       "{ return helper(x) * 3; }\n"
			       "int main(int argc, char **argv) { (void)argv; return caller(argc); }\n";
static const char prog_new[] = "int helper(int x) { return x + 2; }\n"
			       "__attribute__((noinline)) int caller(int x) "
			       "{ return helper(x) * 3; }\n"
			       "int main(int argc, char **argv) { (void)argv; return caller(argc); }\n";

/* @dir/old/prog and @dir/new/prog, and @dir/patch.o, a bundle's patch
 * object that replaces caller() only. */
static void make_builds(const char *dir)
{
	char path[PATH_MAX], script[PATH_MAX * 4];

	for (int i = 0; i < 2; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, i ? "new" : "old");
		ASSERT_EQ(mkdir(path, 0700), 0);
		snprintf(path, sizeof(path), "%s/%s/prog.c", dir, i ? "new" : "old");
		test_write_file(path, i ? prog_new : prog_old, strlen(prog_old));
	}
	snprintf(path, sizeof(path), "%s/replace.bin", dir);
	test_write_file(path, "caller\0\0caller\0", 15);
	snprintf(script, sizeof(script),
		 "command -v cc >/dev/null && command -v objcopy >/dev/null || exit 77; "
		 "set -e; cd '%s'; (cd old && cc -O2 -g -o prog prog.c); "
		 "(cd new && cc -O2 -g -o prog prog.c); "
		 "echo 'int caller_new;' > p.c && cc -c p.c -o patch.o && "
		 "objcopy --add-section .hotpatch.replace=replace.bin patch.o",
		 dir);
	test_sh(script, "the test programs");
}

static struct completeness_input input(const char *dir, char paths[3][PATH_MAX])
{
	snprintf(paths[0], PATH_MAX, "%s/old/prog", dir);
	snprintf(paths[1], PATH_MAX, "%s/new/prog", dir);
	snprintf(paths[2], PATH_MAX, "%s/patch.o", dir);
	return (struct completeness_input){.old_code = paths[0], .new_code = paths[1],
					   .patch_obj = paths[2], .target = "prog"};
}

TEST(function_inlined_into_a_replaced_one_is_accounted)
{
	const char *dir = test_tmpdir();
	const char *const pairs[] = {"helper", "caller"};
	char paths[3][PATH_MAX];
	struct completeness_input in;
	struct completeness_result res;

	make_builds(dir);
	in = input(dir, paths);
	in.inlined = pairs;
	in.ninlined = 1;
	ASSERT_OK(completeness_check(&in, &res));
	ASSERT_EQ(res.replaced, 1);
	ASSERT_EQ(res.inlined, 1);
	ASSERT_EQ(res.funcs_differ, 2);
	ASSERT_CONTAINS(buf_cstr(&res.explain), "1 inlined into replaced ones");
	completeness_result_free(&res);
}

TEST(unaccounted_function_fails_naming_its_source)
{
	const char *dir = test_tmpdir();
	char paths[3][PATH_MAX];
	struct completeness_input in;
	struct completeness_result res;

	make_builds(dir);
	in = input(dir, paths);
	ASSERT_ERR(completeness_check(&in, &res), -EINVAL);
	ASSERT_CONTAINS(hp_err_msg(-EINVAL), "function helper (");
	ASSERT_CONTAINS(hp_err_msg(-EINVAL), "/new/prog.c)");
	ASSERT_EQ(res.nunaccounted, 0);
	completeness_result_free(&res);
}

TEST(collected_unaccounted_difference_is_a_refusal_with_its_path)
{
	const char *dir = test_tmpdir();
	char paths[3][PATH_MAX], src[PATH_MAX];
	struct completeness_input in;
	struct completeness_result res;

	make_builds(dir);
	in = input(dir, paths);
	in.collect = true;
	ASSERT_ERR(completeness_check(&in, &res), -EINVAL);
	ASSERT_EQ(res.nunaccounted, 1);
	ASSERT_EQ(res.refused, 1);
	ASSERT_EQ(res.unaccounted[0].kind, REFUSAL_INCOMPLETE);
	ASSERT_STREQ(res.unaccounted[0].symbol, "helper");
	snprintf(src, sizeof(src), "%s/new/prog.c", dir);
	ASSERT_STREQ(res.unaccounted[0].source, src);
	ASSERT_CONTAINS(res.unaccounted[0].reason, "the bundle does not replace it");
	ASSERT_CONTAINS(buf_cstr(&res.explain), "1 unaccounted for, refused");
	completeness_result_free(&res);
}
