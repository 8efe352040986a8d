/* SPDX-License-Identifier: MIT */
/* symtab.c: a patch names static symbols by file; the wrong match would
 * redirect a patch to another file's variable, so matching must be exact
 * about path components, and ambiguity must be an error that says why. */
#include "symtab.h"

#include <elf.h>
#include <sys/stat.h>

#include "elffile.h"
#include "test.h"

TEST(file_matches_path_suffixes)
{
	ASSERT_TRUE(symtab_file_matches("server.c", "server.c"));
	ASSERT_TRUE(symtab_file_matches("../src/server.c", "server.c"));
	ASSERT_TRUE(symtab_file_matches("../src/server.c", "src/server.c"));
	ASSERT_TRUE(symtab_file_matches("/build/x/src/server.c", "src/server.c"));
	/* gcc writes the basename: the user may still give the longer path. */
	ASSERT_TRUE(symtab_file_matches("server.c", "src/server.c"));
}

TEST(file_matches_only_whole_components)
{
	ASSERT_FALSE(symtab_file_matches("src/server.c", "rc/server.c"));
	ASSERT_FALSE(symtab_file_matches("myserver.c", "server.c"));
	ASSERT_FALSE(symtab_file_matches("server.c", "erver.c"));
	ASSERT_FALSE(symtab_file_matches("server.c", "myserver.c"));
	ASSERT_FALSE(symtab_file_matches("a/server.c", "b/server.c"));
	ASSERT_FALSE(symtab_file_matches("server.c", "server.h"));
	ASSERT_FALSE(symtab_file_matches("server.c", "server.c.orig"));
}

TEST(file_matches_null)
{
	ASSERT_FALSE(symtab_file_matches(NULL, "server.c"));
	ASSERT_FALSE(symtab_file_matches("server.c", NULL));
	ASSERT_FALSE(symtab_file_matches(NULL, NULL));
}

static const char a_c[] = "static int counter;\n"
			  "static int only_here = 5;\n"
			  "int shared_global = 1;\n"
			  "int bump_b(void);\n"
			  "int bump_a(void) { return ++counter + only_here; }\n"
			  "int main(void) { return bump_a() + bump_b() + shared_global; }\n";
static const char b_c[] = "static int counter = 7;\n"
			  "int bump_b(void) { return ++counter; }\n";

/* Compiles a.c and sub/b.c into @dir/prog (optionally stripped) and loads
 * its symbols. Skips when there is no C compiler. */
static void build_and_load(bool strip, struct symtab *ret)
{
	const char *dir = test_tmpdir();
	char path[PATH_MAX], script[PATH_MAX + 128];
	struct elf_file *ef;
	char *sh[] = {"sh", "-c", script, NULL};

	snprintf(path, sizeof(path), "%s/a.c", dir);
	test_write_file(path, a_c, strlen(a_c));
	snprintf(path, sizeof(path), "%s/sub", dir);
	ASSERT_EQ(mkdir(path, 0700), 0);
	snprintf(path, sizeof(path), "%s/sub/b.c", dir);
	test_write_file(path, b_c, strlen(b_c));
	snprintf(script, sizeof(script), "command -v cc >/dev/null || exit 77; cd '%s' && "
		 "cc -O0 -o prog a.c sub/b.c %s", dir, strip ? "&& strip prog" : "");
	switch (test_spawn(sh)) {
	case 0:
		break;
	case 77:
		TEST_SKIP("no C compiler");
	default:
		test_fail(__FILE__, __LINE__, "cannot compile the test program");
	}
	snprintf(path, sizeof(path), "%s/prog", dir);
	ASSERT_OK(elf_file_open(path, &ef));
	ASSERT_OK(symtab_load(ef, NULL, dir, ret));
	elf_file_close(ef);
}

TEST(static_name_in_two_files_is_ambiguous)
{
	const struct symtab_entry *e = NULL;
	struct symtab st;
	const char *msg;

	build_and_load(false, &st);
	ASSERT_TRUE(st.has_locals);
	hp_err_clear();
	ASSERT_ERR(symtab_lookup(&st, "counter", NULL, &e), -ENOTUNIQ);
	ASSERT_NULL(e);
	msg = hp_err_msg(-ENOTUNIQ);
	ASSERT_CONTAINS(msg, "'counter'");
	ASSERT_CONTAINS(msg, "a.c");
	ASSERT_CONTAINS(msg, "b.c");
	ASSERT_CONTAINS(msg, "HOTPATCH_LOCAL(counter, \"FILE.c\")");
	/* An empty file name is no qualification either. */
	ASSERT_ERR(symtab_lookup(&st, "counter", "", &e), -ENOTUNIQ);
	symtab_free(&st);
}

TEST(qualified_static_lookup)
{
	const struct symtab_entry *a = NULL, *b = NULL, *b2 = NULL;
	struct symtab st;

	build_and_load(false, &st);
	ASSERT_OK(symtab_lookup(&st, "counter", "a.c", &a));
	ASSERT_OK(symtab_lookup(&st, "counter", "b.c", &b));
	/* As the user may write it, relative to the source tree. */
	ASSERT_OK(symtab_lookup(&st, "counter", "sub/b.c", &b2));
	ASSERT_TRUE(b == b2);
	ASSERT_STREQ(a->file, "a.c");
	ASSERT_STREQ(b->file, "b.c");
	ASSERT_NE(a->value, b->value);
	ASSERT_EQ(a->bind, STB_LOCAL);
	ASSERT_EQ(a->type, STT_OBJECT);
	ASSERT_EQ(a->size, sizeof(int));
	ASSERT_ERR(symtab_lookup(&st, "counter", "c.c", &a), -ENOENT);
	ASSERT_ERR(symtab_lookup(&st, "shared_global", "a.c", &a), -ENOENT);
	symtab_free(&st);
}

TEST(unique_and_global_lookups)
{
	const struct symtab_entry *e = NULL;
	struct symtab st;

	build_and_load(false, &st);
	/* A static defined once needs no file name. */
	ASSERT_OK(symtab_lookup(&st, "only_here", NULL, &e));
	ASSERT_STREQ(e->file, "a.c");
	ASSERT_OK(symtab_lookup(&st, "shared_global", NULL, &e));
	ASSERT_NULL(e->file);
	ASSERT_EQ(e->bind, STB_GLOBAL);
	ASSERT_OK(symtab_lookup(&st, "bump_b", NULL, &e));
	ASSERT_EQ(e->type, STT_FUNC);
	ASSERT_ERR(symtab_lookup(&st, "no_such_symbol", NULL, &e), -ENOENT);
	symtab_free(&st);
}

TEST(stripped_binary_knows_only_exports)
{
	const struct symtab_entry *e = NULL;
	struct symtab st;

	/* No .symtab and no debuginfo under the (empty) debug root: .dynsym
	 * only, and the message says why statics cannot be found. */
	build_and_load(true, &st);
	ASSERT_FALSE(st.has_locals);
	hp_err_clear();
	ASSERT_ERR(symtab_lookup(&st, "counter", NULL, &e), -ENOENT);
	ASSERT_CONTAINS(hp_err_msg(-ENOENT), "only exported symbols");
	symtab_free(&st);
}
