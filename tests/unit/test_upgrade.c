/* SPDX-License-Identifier: MIT */
/* The parts of build --upgrade-to that decide: is a rebuild the shipped
 * file's twin (twincheck.c), which fixes lie between two versions of a
 * package and what each one's verdict is (fixlist.c), and which package owns
 * a file (debpkg.c). Wrong answers here would patch a process with code
 * built from other sources, or claim a CVE fixed that is not. */
#include <sys/stat.h>

#include "debpkg.h"
#include "fixlist.h"
#include "fixread.h"
#include "strv.h"
#include "fixsplit.h"
#include "srctree.h"
#include "test.h"
#include "twincheck.h"

static const char prog_c[] = "#include <stdio.h>\n"
			     "static const char *greeting = \"hello\";\n"
			     "int twice(int n) { return 2 * n; }\n"
			     "int main(int argc, char **argv) {\n"
			     "\t(void)argv; printf(\"%s %d\\n\", greeting, twice(argc));\n"
			     "\treturn 0;\n}\n";

/* Compiles prog.c in @dir/@sub with @flags into @dir/@sub/prog. */
static void compile(const char *dir, const char *sub, const char *flags, char *ret, size_t len)
{
	char path[PATH_MAX], script[PATH_MAX * 2];
	char *sh[] = {"sh", "-c", script, NULL};

	snprintf(path, sizeof(path), "%s/%s", dir, sub);
	ASSERT_EQ(mkdir(path, 0700), 0);
	snprintf(path, sizeof(path), "%s/%s/prog.c", dir, sub);
	test_write_file(path, prog_c, strlen(prog_c));
	snprintf(script, sizeof(script),
		 "command -v cc >/dev/null || exit 77; cd '%s/%s' && cc %s -o prog prog.c", dir,
		 sub, flags);
	switch (test_spawn(sh)) {
	case 0:
		break;
	case 77:
		TEST_SKIP("no C compiler");
	default:
		test_fail(__FILE__, __LINE__, "cannot compile the test program");
	}
	snprintf(ret, len, "%s/%s/prog", dir, sub);
}

TEST(twin_with_equal_build_id_is_exact)
{
	const char *dir = test_tmpdir();
	char a[PATH_MAX], b[PATH_MAX], *why = NULL;
	enum twin_verdict v;

	/* Same flags, same directory name relative to the build: same build-id. */
	compile(dir, "one", "-O2 -g -ffile-prefix-map=$PWD=.", a, sizeof(a));
	compile(dir, "two", "-O2 -g -ffile-prefix-map=$PWD=.", b, sizeof(b));
	ASSERT_OK(twincheck(a, b, &v, &why));
	ASSERT_EQ(v, TWIN_EXACT);
	ASSERT_STREQ(twin_verdict_name(v), "exact");
	free(why);
}

TEST(twin_differing_only_in_debug_info_is_code_identical)
{
	const char *dir = test_tmpdir();
	char a[PATH_MAX], b[PATH_MAX], *why = NULL;
	enum twin_verdict v;

	/* The build directory lands in DW_AT_comp_dir, so in the build-id only. */
	compile(dir, "one", "-O2 -g", a, sizeof(a));
	compile(dir, "other-dir", "-O2 -g", b, sizeof(b));
	ASSERT_OK(twincheck(a, b, &v, &why));
	ASSERT_EQ(v, TWIN_CODE_IDENTICAL);
	ASSERT_CONTAINS(why, "byte-identical");
	free(why);
}

TEST(twin_with_other_code_is_refused_naming_sections)
{
	const char *dir = test_tmpdir();
	char a[PATH_MAX], b[PATH_MAX], *why = NULL;
	enum twin_verdict v;

	compile(dir, "one", "-O2 -g", a, sizeof(a));
	compile(dir, "two", "-O0 -g", b, sizeof(b));
	ASSERT_OK(twincheck(a, b, &v, &why));
	ASSERT_EQ(v, TWIN_REFUSED);
	ASSERT_CONTAINS(why, ".text");
	ASSERT_CONTAINS(why, "likely cause: the code differs");
	free(why);
}

static void put(const char *dir, const char *rel, const char *text)
{
	char path[PATH_MAX], script[PATH_MAX + 32];
	char *sh[] = {"sh", "-c", script, NULL};

	snprintf(script, sizeof(script), "mkdir -p \"$(dirname '%s/%s')\"", dir, rel);
	ASSERT_EQ(test_spawn(sh), 0);
	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	test_write_file(path, text, strlen(text));
}

static const char changelog[] =
	"pkg (1.0-2) bookworm-security; urgency=high\n\n"
	"  * fix-parse.patch: CVE-2099-0002.\n"
	"  * Fix CVE-2099-0003, CVE-2099-0004.\n\n"
	" -- T <t@example.org>  Tue, 03 Jan 2023 10:00:00 +0000\n\n"
	"pkg (1.0-1) bookworm; urgency=medium\n\n"
	"  * Fix CVE-1999-0001 (older: not between the versions).\n\n"
	" -- T <t@example.org>  Mon, 02 Jan 2023 10:00:00 +0000\n";

static const char fix_parse[] = "Description: parse: bound the length\n"
				"CVE: CVE-2099-0001\n"
				"--- a/src/parse.c\n+++ b/src/parse.c\n"
				"@@ -10,3 +10,3 @@\n ctx\n-old\n+new\n ctx\n"
				"@@ -40,3 +40,3 @@ int parse_fast(int n)\n ctx\n-old\n+new\n ctx\n";
/* Two hunks in a compiled file: one reaches parse_len, the other code the
 * build compiled out (no function of the target lies there). */
static const char fix_half[] = "Description: parse: two places\n"
			       "CVE: CVE-2099-0009\n"
			       "--- a/src/parse.c\n+++ b/src/parse.c\n"
			       "@@ -10,3 +10,3 @@\n ctx\n-old\n+new\n ctx\n"
			       "@@ -70,3 +70,3 @@\n ctx\n-old\n+new\n ctx\n";
static const char fix_tool[] = "--- a/tools/tool.c\n+++ b/tools/tool.c\n"
			       "@@ -1,3 +1,3 @@\n ctx\n-old\n+new = parse_alias(1);\n ctx\n";
static const char fix_cfg[] = "--- a/src/config.c\n+++ b/src/config.c\n"
			      "@@ -50,3 +50,3 @@\n ctx\n-old\n+new\n ctx\n";

TEST(fixes_between_versions_with_cves_and_verdicts)
{
	const char *dir = test_tmpdir();
	char old[PATH_MAX], cur[PATH_MAX];
	struct fixlist fl;
	struct buf out = {0};
	const struct fn_change changed[] = {
		{.name = "parse_len", .file = "src/parse.c", .line = 8, .end_line = 20},
		{.name = "unrelated", .file = "src/other.c", .line = 1, .end_line = 5},
		/* no lines from the debug info: named by the patch's hunk header */
		{.name = "parse_fast.part.0", .file = "parse.c"},
		/* named by a patch, but in another file's part of it */
		{.name = "parse_alias", .file = "parse.c"},
	};
	const char *files[] = {"parse.c", "config.c", "other.c"};

	snprintf(old, sizeof(old), "%s/old", dir);
	snprintf(cur, sizeof(cur), "%s/new", dir);
	put(old, "debian/patches/series", "keep.patch\n");
	put(old, "debian/patches/keep.patch", fix_tool);
	put(cur, "debian/patches/series", "keep.patch\n# a comment\nfix-parse.patch\n"
					  "tool.patch\ncfg.patch\n");
	put(cur, "debian/patches/keep.patch", fix_tool);
	put(cur, "debian/patches/fix-parse.patch", fix_parse);
	put(cur, "debian/patches/tool.patch", fix_tool);
	put(cur, "debian/patches/cfg.patch", fix_cfg);
	put(cur, "debian/changelog", changelog);

	ASSERT_OK(fixlist_read(old, cur, "1.0-1", dir, &fl));
	ASSERT_EQ(fl.n, 3); /* keep.patch was there already, unchanged */
	ASSERT_STREQ(fl.v[0].name, "fix-parse.patch");
	/* Its header's id, and the changelog bullet that names it. */
	ASSERT_EQ(fl.v[0].diff.ncves, 2);
	ASSERT_STREQ(fl.v[0].diff.cves[0], "CVE-2099-0001");
	ASSERT_STREQ(fl.v[0].diff.cves[1], "CVE-2099-0002");
	/* A bullet naming no patch gives its ids to none. */
	ASSERT_EQ(fl.v[2].diff.ncves, 0);
	ASSERT_EQ(fl.changelog.ncves, 3);

	fixlist_assign(&fl, changed, 4, files, 3);
	ASSERT_EQ(fl.v[0].verdict, FIX_IN_PATCH);
	ASSERT_EQ(fl.v[0].nfuncs, 2);
	ASSERT_STREQ(fl.v[0].funcs[0], "parse_len");
	ASSERT_STREQ(fl.v[0].funcs[1], "parse_fast.part.0");
	ASSERT_EQ(fl.v[1].verdict, FIX_NOT_IN_FILE);
	ASSERT_EQ(fl.v[2].verdict, FIX_NO_CODE);

	fixlist_explain(&fl, &out);
	ASSERT_CONTAINS(buf_cstr(&out), "fix fix-parse.patch: in the live patch");
	ASSERT_CONTAINS(buf_cstr(&out), "functions: parse_len()");
	ASSERT_CONTAINS(buf_cstr(&out), "fix tool.patch: not in this file");

	fixlist_refuse(&fl, "the fix changes the layout of struct s");
	ASSERT_EQ(fl.v[0].verdict, FIX_REFUSED);
	ASSERT_EQ(fl.v[1].verdict, FIX_NOT_IN_FILE);
	buf_free(&out);
	fixlist_free(&fl);
}

TEST(hunk_reaching_no_changed_function_is_not_live)
{
	const char *dir = test_tmpdir();
	char path[PATH_MAX];
	struct fixlist fl = {0};
	struct buf out = {0};
	const struct fn_change changed[] = {
		{.name = "parse_len", .file = "src/parse.c", .line = 8, .end_line = 20},
	};
	const char *files[] = {"parse.c"};

	snprintf(path, sizeof(path), "%s/half.patch", dir);
	test_write_file(path, fix_half, strlen(fix_half));
	ASSERT_OK(fixlist_add(&fl, "half.patch", path, NULL, NULL));
	fixlist_assign(&fl, changed, 1, files, 1);
	/* parse_len is replaced, but the fix's hunk at line 70 is not in it */
	ASSERT_EQ(fl.v[0].nfuncs, 1);
	ASSERT_EQ(fl.v[0].verdict, FIX_IN_PART);
	ASSERT_EQ(fixlist_count(&fl, FIX_IN_PATCH), 0);
	fixlist_explain(&fl, &out);
	ASSERT_CONTAINS(buf_cstr(&out), "fix half.patch: in the live patch only in part, so not "
					"counted as live (a hunk reaching no changed function of "
					"this file: src/parse.c:70");
	buf_free(&out);

	/* the same fix with the second place compiled in: live */
	const struct fn_change both[] = {
		changed[0],
		{.name = "parse_opt", .file = "src/parse.c", .line = 66, .end_line = 80},
	};
	fixlist_assign(&fl, both, 2, files, 1);
	ASSERT_EQ(fl.v[0].verdict, FIX_IN_PATCH);
	fixlist_free(&fl);
}

/* Two fixes, a.patch and b.patch (texts @a and @b), added to @fl. */
static void add_two_fixes(struct fixlist *fl, const char *a, const char *b)
{
	const char *dir = test_tmpdir();
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/a.patch", dir);
	test_write_file(path, a, strlen(a));
	ASSERT_OK(fixlist_add(fl, "a.patch", path, NULL, NULL));
	snprintf(path, sizeof(path), "%s/b.patch", dir);
	test_write_file(path, b, strlen(b));
	ASSERT_OK(fixlist_add(fl, "b.patch", path, NULL, NULL));
}

/* The verdicts of @fl's fixes when the builds found parse_len() (src/parse.c,
 * lines 8 to 20) the one changed function. */
static void assign_parse_len(struct fixlist *fl)
{
	const struct fn_change changed[] = {
		{.name = "parse_len", .file = "src/parse.c", .line = 8, .end_line = 20},
	};
	const char *files[] = {"parse.c"};

	fixlist_assign(fl, changed, 1, files, 1);
}

/* libmodbus's CVE-2024-10918-part1.patch: beside its fix, a hunk that only
 * rewraps a comment outside any function. That hunk changes no code, so the
 * fix is whole in the live patch; a hunk whose line starts with '*' but is
 * code (a store through a pointer) still counts. */
static const char fix_comment[] = "--- a/src/parse.c\n+++ b/src/parse.c\n"
				  "@@ -10,3 +10,3 @@\n ctx\n-old\n+new\n ctx\n"
				  "@@ -70,4 +70,5 @@\n }\n \n"
				  "-/* Get the timeout used by the server */\n"
				  "+/* Get the timeout used by the server\n+ */\n"
				  " int get_timeout(void)\n"
				  "--- a/tests/t.c\n+++ b/tests/t.c\n"
				  "@@ -1,1 +1,1 @@\n-x\n+y\n";
static const char fix_star[] = "--- a/src/parse.c\n+++ b/src/parse.c\n"
			       "@@ -10,3 +10,3 @@\n ctx\n-old\n+new\n ctx\n"
			       "@@ -70,3 +70,3 @@\n ctx\n-*p = 1; /* one */\n+*p = 2; // two\n ctx\n"
			       "@@ -90,3 +90,3 @@\n ctx\n-s = \"/* not a comment\";\n"
			       "+s = \"*/ nor this\";\n ctx\n";

TEST(comment_only_hunk_changes_no_code)
{
	struct fixlist fl = {0};

	add_two_fixes(&fl, fix_comment, fix_star);
	ASSERT_FALSE(fl.v[0].diff.hunks[1].code);
	ASSERT_TRUE(fl.v[0].diff.hunks[0].code);
	ASSERT_TRUE(fl.v[0].diff.hunks[2].code);
	assign_parse_len(&fl);
	ASSERT_EQ(fl.v[0].verdict, FIX_IN_PATCH);
	/* code at line 70 and a string holding comment markers at 90 */
	ASSERT_TRUE(fl.v[1].diff.hunks[1].code);
	ASSERT_TRUE(fl.v[1].diff.hunks[2].code);
	ASSERT_EQ(fl.v[1].verdict, FIX_IN_PART);
	fixlist_free(&fl);
}

/* libevent's CVE-2026-63379 and CVE-2026-63382: beside their code, hunks
 * near the top of http.c that only declare a static function the fix adds
 * further down (one of them over four lines). A declaration is no code, so
 * the fixes are whole in the live patch. A call, a function pointer
 * variable, a definition, a declaration left unended by its hunk: code. */
static const char fix_proto[] =
	"--- a/src/parse.c\n+++ b/src/parse.c\n"
	"@@ -10,3 +10,3 @@\n ctx\n-old\n+new\n ctx\n"
	"@@ -60,2 +60,4 @@\n #endif\n \n"
	"+static int validate_(struct req *req); /* below */\n+\n"
	"@@ -80,2 +82,6 @@\n static void name_from_addr(char **);\n"
	"+static enum message_read_status parse_headers_impl_(\n"
	"+\tstruct req *req,\n+\tstruct evbuffer *buffer,\n+\tstruct evkeyvalq *headers);\n"
	" static int other(void);\n";
static const char fix_not_proto[] =
	"--- a/src/parse.c\n+++ b/src/parse.c\n"
	"@@ -10,3 +10,3 @@\n ctx\n-old\n+new\n ctx\n"
	"@@ -60,2 +60,3 @@\n ctx\n+\tcheck_len(req);\n ctx\n"
	"@@ -70,2 +71,3 @@\n ctx\n+static void (*on_error)(int);\n ctx\n"
	"@@ -80,2 +82,3 @@\n ctx\n+\treturn parse(req);\n ctx\n"
	"@@ -90,2 +93,3 @@\n ctx\n+static int limit = 10;\n ctx\n"
	"@@ -99,2 +103,3 @@\n ctx\n+static int cut(struct req *req,\n ctx\n";

TEST(declaration_only_hunk_changes_no_code)
{
	struct fixlist fl = {0};

	add_two_fixes(&fl, fix_proto, fix_not_proto);
	ASSERT_TRUE(fl.v[0].diff.hunks[0].code);
	ASSERT_FALSE(fl.v[0].diff.hunks[1].code);
	ASSERT_FALSE(fl.v[0].diff.hunks[2].code);
	for (size_t i = 0; i < fl.v[1].diff.nhunks; i++)
		ASSERT_TRUE(fl.v[1].diff.hunks[i].code);
	assign_parse_len(&fl);
	ASSERT_EQ(fl.v[0].verdict, FIX_IN_PATCH);
	ASSERT_EQ(fl.v[1].verdict, FIX_IN_PART);
	fixlist_free(&fl);
}

/* Hunks that change only comments, blank lines or #include lines reach no
 * function and need none: the fix is live when its code hunk is. A line
 * inside a comment opened above the hunk, a comment closed on a line that
 * also holds code, and "--- a/next" of the next file are told right. */
static const char fix_noise[] =
	"Description: parse: bound, and say why\n"
	"--- a/src/parse.c\n+++ b/src/parse.c\n"
	"@@ -1,3 +1,4 @@\n #include <stdio.h>\n+#include <limits.h>\n-#include <stdlib.h>\n"
	"+#include <stdlib.h>\n ctx\n"
	"@@ -10,3 +10,3 @@\n ctx\n-old\n+new\n ctx\n"
	"@@ -30,4 +30,6 @@\n /*\n- * the old words\n+ * the new words,\n+ * on two lines\n"
	" */\n+\n+// and a line comment\n x = 1;\n"
	"@@ -70,3 +72,3 @@\n ctx\n-\tn = 1; /* one */\n+\tn = 1; /* exactly one */\n ctx\n"
	"--- a/src/other.c\n+++ b/src/other.c\n"
	"@@ -5,2 +5,2 @@\n-/* a */ y = 2;\n+/* a */ y = 3;\n ctx\n";

TEST(hunks_of_only_comments_or_includes_need_no_function)
{
	const char *dir = test_tmpdir();
	char path[PATH_MAX];
	struct fixlist fl = {0};
	const struct fn_change changed[] = {
		{.name = "parse_len", .file = "src/parse.c", .line = 8, .end_line = 20},
		{.name = "other_fn", .file = "src/other.c", .line = 1, .end_line = 9},
	};
	const char *files[] = {"parse.c", "other.c"};

	snprintf(path, sizeof(path), "%s/noise.patch", dir);
	test_write_file(path, fix_noise, strlen(fix_noise));
	ASSERT_OK(fixlist_add(&fl, "noise.patch", path, NULL, NULL));
	ASSERT_EQ(fl.v[0].diff.nhunks, 5);
	ASSERT_FALSE(fl.v[0].diff.hunks[0].code); /* #include lines */
	ASSERT_TRUE(fl.v[0].diff.hunks[1].code);
	ASSERT_FALSE(fl.v[0].diff.hunks[2].code); /* comment lines, a blank */
	ASSERT_TRUE(fl.v[0].diff.hunks[3].code);  /* code with a comment */
	ASSERT_TRUE(fl.v[0].diff.hunks[4].code);
	/* line 70 holds code the build compiled out: only in part */
	fixlist_assign(&fl, changed, 2, files, 2);
	ASSERT_EQ(fl.v[0].verdict, FIX_IN_PART);
	ASSERT_CONTAINS(fl.v[0].reason, "src/parse.c:72");
	ASSERT_NULL(strstr(fl.v[0].reason, "src/parse.c:1,"));
	ASSERT_NULL(strstr(fl.v[0].reason, "src/parse.c:30"));
	fixlist_free(&fl);

	/* without the code hunk at line 70: live */
	fl = (struct fixlist){0};
	const char *cut = strstr(fix_noise, "@@ -70,3");
	char text[sizeof(fix_noise)];

	snprintf(text, sizeof(text), "%.*s%s", (int)(cut - fix_noise), fix_noise,
		 strstr(cut, "--- a/src/other.c"));
	test_write_file(path, text, strlen(text));
	ASSERT_OK(fixlist_add(&fl, "noise.patch", path, NULL, NULL));
	fixlist_assign(&fl, changed, 2, files, 2);
	ASSERT_EQ(fl.v[0].verdict, FIX_IN_PATCH);
	fixlist_free(&fl);
}

/* A new upstream release (1.0 -> 1.1, no Debian patch at all): one part
 * per file that differs, debian/ left out; the CVE ids of the changelog's
 * flat bullet and of the release's NEWS go to the parts whose files define
 * the functions they name (two ids in one sentence each to its own). */
TEST(upstream_release_is_split_by_file_with_its_cves)
{
	const char *dir = test_tmpdir();
	char old[PATH_MAX], cur[PATH_MAX], work[PATH_MAX];
	struct fixlist fl;

	snprintf(old, sizeof(old), "%s/up-old", dir);
	snprintf(cur, sizeof(cur), "%s/up-new", dir);
	snprintf(work, sizeof(work), "%s/up-work", dir);
	put(old, "debian/changelog", "pkg (1.0-1) bookworm; urgency=medium\n\n  * Initial.\n\n"
				     " -- T <t@example.org>  Mon, 02 Jan 2023 10:00:00 +0000\n");
	put(cur, "debian/changelog",
	    "pkg (1.1-1) bookworm-security; urgency=high\n\n"
	    "  * New upstream release: fixes CVE-2099-2001 in parse_len and CVE-2099-2002\n"
	    "    in name_ok.\n\n"
	    " -- T <t@example.org>  Tue, 03 Jan 2023 10:00:00 +0000\n\n"
	    "pkg (1.0-1) bookworm; urgency=medium\n\n  * Initial.\n\n"
	    " -- T <t@example.org>  Mon, 02 Jan 2023 10:00:00 +0000\n");
	/* an attribute before the name: the name is still parse_len */
	put(old, "src/parse.c", "__attribute__((noinline)) int parse_len(int n)\n{\n\treturn n;\n}\n");
	put(cur, "src/parse.c",
	    "__attribute__((noinline)) int parse_len(int n)\n{\n\treturn n > 64 ? -1 : n;\n}\n");
	put(old, "src/name.c", "int name_ok(const char *s)\n{\n\treturn 1;\n}\n");
	put(cur, "src/name.c", "int name_ok(const char *s)\n{\n\treturn !strchr(s, '/');\n}\n");
	put(old, "src/stats.c", "struct counter { int hits; };\nint count_hit(void)\n{\n}\n");
	put(cur, "src/stats.c", "struct counter { int hits, misses; };\nint count_hit(void)\n{\n}\n");
	put(old, "src/same.c", "int same(void)\n{\n}\n");
	put(cur, "src/same.c", "int same(void)\n{\n}\n");
	put(old, "NEWS", "1.0: first.\n");
	put(cur, "NEWS", "1.1:\n * stats: count misses too (CVE-2099-2003).\n"
			 " * Fix parse_len overflow (CVE-2099-2001).\n1.0: first.\n");

	ASSERT_OK(fixlist_read(old, cur, "1.0-1", work, &fl));
	ASSERT_EQ(fl.n, 4); /* NEWS, name.c, parse.c, stats.c: not same.c, not debian/ */
	for (size_t i = 0; i < fl.n; i++) {
		const struct fix *f = &fl.v[i];

		ASSERT_STREQ(f->whole, "upstream 1.1");
		if (strcmp(f->file, "src/parse.c") == 0) {
			ASSERT_STREQ(f->name, "upstream 1.1: src/parse.c");
			ASSERT_EQ(f->diff.ncves, 1);
			ASSERT_STREQ(f->diff.cves[0], "CVE-2099-2001");
		} else if (strcmp(f->file, "src/name.c") == 0) {
			ASSERT_EQ(f->diff.ncves, 1);
			ASSERT_STREQ(f->diff.cves[0], "CVE-2099-2002");
		} else if (strcmp(f->file, "src/stats.c") == 0) {
			ASSERT_EQ(f->diff.ncves, 1);
			ASSERT_STREQ(f->diff.cves[0], "CVE-2099-2003");
		} else {
			ASSERT_STREQ(f->file, "NEWS");
			ASSERT_EQ(f->diff.ncves, 0); /* the notes name fixes, fix nothing */
		}
	}
	fixlist_free(&fl);

	/* a Debian revision of the same upstream version has no upstream part */
	put(cur, "debian/changelog", "pkg (1.0-2) bookworm; urgency=medium\n\n  * Rebuild.\n\n"
				     " -- T <t@example.org>  Tue, 03 Jan 2023 10:00:00 +0000\n");
	ASSERT_OK(fixlist_read(old, cur, "1.0-1", work, &fl));
	ASSERT_EQ(fl.n, 0);
	fixlist_free(&fl);
}

/* A refusal names its source file (the completeness check: the full path
 * the debug info gives); the fix changing that file is blamed, never one
 * changing a same-named file elsewhere (a vendored copy). */
TEST(refusal_blames_the_fix_by_its_source_path)
{
	const char *dir = test_tmpdir();
	char path[PATH_MAX];
	struct fixlist fl = {0};
	static const char fix_util[] = "--- a/src/util.c\n+++ b/src/util.c\n"
				       "@@ -1,3 +1,3 @@\n ctx\n-old\n+new\n ctx\n";

	snprintf(path, sizeof(path), "%s/util.patch", dir);
	test_write_file(path, fix_util, strlen(fix_util));
	ASSERT_OK(fixlist_add(&fl, "util.patch", path, NULL, NULL));
	ASSERT_OK(fixlist_add(&fl, "git-updates.diff: src/util.c", path, "src/util.c",
			      "git-updates.diff"));
	for (size_t i = 0; i < 2; i++) {
		const struct fix *f = &fl.v[i];

		ASSERT_TRUE(fix_touches_source(f, "/build/reproducible-path/pkg-1.0/src/util.c"));
		ASSERT_TRUE(fix_touches_source(f, "../src/util.c"));
		ASSERT_TRUE(fix_touches_source(f, "util.c"));
		ASSERT_FALSE(fix_touches_source(f, "/build/reproducible-path/pkg-1.0/deps/lib/util.c"));
		ASSERT_FALSE(fix_touches_source(f, "deps/lib/util.c"));
		ASSERT_FALSE(fix_touches_source(f, NULL));
	}
	fixlist_free(&fl);
}

static const char updates_old[] = "--- a/src/frob.c\n+++ b/src/frob.c\n"
				  "@@ -1,1 +1,1 @@\n-x\n+y\n";
static const char updates_new[] = "--- a/src/frob.c\n+++ b/src/frob.c\n"
				  "@@ -1,1 +1,1 @@\n-x\n+z\n"
				  "--- a/src/widget.c\n+++ b/src/widget.c\n"
				  "@@ -1,1 +1,1 @@\n-x\n+z\n"
				  "--- a/tests/t.c\n+++ b/tests/t.c\n"
				  "@@ -1,1 +1,1 @@\n-x\n+x\n";
static const char updates_changelog[] =
	"pkg (1.0-2) bookworm; urgency=high\n\n"
	"  * debian/patches/updates.diff: update from the upstream branch:\n"
	"    - Fix an overflow in frob_len (CVE-2099-1111).\n"
	"    - Fix a leak in widget\n"
	"      parsing (CVE-2099-2222).\n"
	"    - Fix the widgetry manual (CVE-2099-3333).\n"
	"    - debian/patches/refresh.patch: refreshed.\n"
	"  * Also CVE-2099-4444.\n\n"
	" -- T <t@example.org>  Tue, 03 Jan 2023 10:00:00 +0000\n\n"
	"pkg (1.0-1) bookworm; urgency=medium\n\n"
	"  * Initial.\n\n"
	" -- T <t@example.org>  Mon, 02 Jan 2023 10:00:00 +0000\n";

/* A cumulative patch the newer version changed is split by file, each part
 * with the two versions' difference of its file, and the changelog's
 * sub-items give their CVE ids to the parts whose code or file they name. */
TEST(changed_patch_is_split_by_file)
{
	const char *dir = test_tmpdir();
	char old[PATH_MAX], cur[PATH_MAX], work[PATH_MAX];
	struct fixlist fl;

	snprintf(old, sizeof(old), "%s/old", dir);
	snprintf(cur, sizeof(cur), "%s/new", dir);
	snprintf(work, sizeof(work), "%s/split", dir);
	put(old, "debian/patches/series", "updates.diff\nrefresh.patch\n");
	put(old, "debian/patches/updates.diff", updates_old);
	put(old, "debian/patches/refresh.patch", fix_cfg);
	put(old, "src/frob.c", "int\n_nss_x_frob_len_r (int n)\n{\n\treturn n;\n}\n");
	put(old, "src/widget.c", "int parse(void) { return 0; }\n");
	put(old, "tests/t.c", "same\n");
	put(cur, "debian/patches/series", "updates.diff\nrefresh.patch\n");
	put(cur, "debian/patches/updates.diff", updates_new);
	/* refreshed, and no changelog entry lists fixes under it: whole */
	put(cur, "debian/patches/refresh.patch", fix_tool);
	put(cur, "src/frob.c", "#define FROB_LIMIT 64\nint\n_nss_x_frob_len_r (int n)\n"
			       "{\n\treturn n < 0 ? 0 : n;\n}\n");
	put(cur, "src/widget.c", "int parse(void) { return FROB_LIMIT; }\n");
	put(cur, "tests/t.c", "same\n");
	put(cur, "debian/changelog", updates_changelog);

	ASSERT_OK(fixlist_read(old, cur, "1.0-1", work, &fl));
	ASSERT_EQ(fl.n, 3); /* tests/t.c is the same in both trees */
	ASSERT_STREQ(fl.v[2].name, "refresh.patch");
	ASSERT_NULL(fl.v[2].file);
	/* named in a sub-item with no id: none of its siblings' */
	ASSERT_EQ(fl.v[2].diff.ncves, 0);
	ASSERT_STREQ(fl.v[0].name, "updates.diff: src/frob.c");
	ASSERT_STREQ(fl.v[0].file, "src/frob.c");
	ASSERT_STREQ(fl.v[1].name, "updates.diff: src/widget.c");
	/* each part's diff is its file's change between the trees */
	ASSERT_EQ(fl.v[0].diff.nhunks, 1);
	ASSERT_STREQ(fl.v[0].diff.hunks[0].file, "src/frob.c");
	ASSERT_TRUE(diff_touches(&fl.v[0].diff, "src/frob.c", 5, 5));
	/* frob_len is how a changelog names _nss_x_frob_len_r, which frob.c
	 * defines; "widget" is widget.c's name; "widgetry" is neither (only
	 * whole words count): that id goes to no part */
	ASSERT_EQ(fl.v[0].diff.ncves, 1);
	ASSERT_STREQ(fl.v[0].diff.cves[0], "CVE-2099-1111");
	ASSERT_EQ(fl.v[1].diff.ncves, 1);
	ASSERT_STREQ(fl.v[1].diff.cves[0], "CVE-2099-2222");
	ASSERT_EQ(fl.changelog.ncves, 4);

	/* frob.c's part refused: widget.c's needs the macro it brings */
	fl.v[0].verdict = FIX_REFUSED;
	snprintf(work, sizeof(work), "%s/deps", dir);
	ASSERT_EQ(fixsplit_dependents(&fl, old, work), 1);
	ASSERT_EQ(fl.v[1].verdict, FIX_REFUSED);
	ASSERT_CONTAINS(fl.v[1].reason, "it uses FROB_LIMIT, which updates.diff: src/frob.c");
	fixlist_free(&fl);
}

/* The objects a build left: .o and glibc's .os, but not its text stamp.o
 * files nor anything else. */
TEST(objects_of_a_tree_are_elf_o_and_os)
{
	const char *dir = test_tmpdir();
	char **v = NULL;
	size_t n = 0;

	put(dir, "a/x.o", "\177ELF: only the magic is looked at");
	put(dir, "b/y.os", "\177ELF");
	put(dir, "b/stamp.o", "b/y.os\n");
	put(dir, "b/notes.txt", "");
	ASSERT_OK(srctree_objects(dir, &v, &n));
	ASSERT_EQ(n, 2);
	ASSERT_STREQ(v[0], "a/x.o");
	ASSERT_STREQ(v[1], "b/y.os");
	strv_free_n(v, n);
}

TEST(owner_from_a_roots_dpkg_database)
{
	const char *root = test_tmpdir();
	struct debpkg p;

	put(root, "var/lib/dpkg/info/libfoo1:amd64.list", "/.\n/usr\n/usr/lib/libfoo.so.1\n");
	put(root, "var/lib/dpkg/info/bar.list", "/bin/bar\n");
	put(root, "var/lib/dpkg/status",
	    "Package: libfoo1\nStatus: deinstall ok config-files\nVersion: 0.9-1\n\n"
	    "Package: libfoo1\nStatus: install ok installed\nArchitecture: amd64\n"
	    "Source: foo (1:1.2-3)\nVersion: 1:1.2-3+b1\n\n"
	    "Package: bar\nStatus: install ok installed\nVersion: 2.0-1\n");

	ASSERT_OK(debpkg_owner(root, "/usr/lib/libfoo.so.1", &p));
	ASSERT_STREQ(p.package, "libfoo1");
	ASSERT_STREQ(p.version, "1:1.2-3+b1");
	ASSERT_STREQ(p.source, "foo");
	ASSERT_STREQ(p.source_version, "1:1.2-3");
	debpkg_free(&p);
	/* usrmerge: listed as /bin/bar, asked as /usr/bin/bar */
	ASSERT_OK(debpkg_owner(root, "/usr/bin/bar", &p));
	ASSERT_STREQ(p.source, "bar");
	ASSERT_STREQ(p.source_version, "2.0-1");
	debpkg_free(&p);
	ASSERT_ERR(debpkg_owner(root, "/usr/bin/nobody", &p), -ENOENT);

	{
		char *up = debver_upstream("1:2.9.14+dfsg-1.3~deb12u4");

		ASSERT_STREQ(up, "2.9.14+dfsg");
		free(up);
	}
	ASSERT_STREQ(debver_noepoch("1:1.2-3"), "1.2-3");
}
