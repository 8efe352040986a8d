/* SPDX-License-Identifier: MIT */
/* linemove.c and diff_moves_line(): a function whose code differs only by
 * a line number the diff moved is left alone. Saying "moved" for a real
 * change would leave the bug in place, so the checks must be exact: the
 * right shift, only outside the hunks, only in immediates. */
#include "diffparse.h"
#include "linemove.h"

#include <stdio.h>

#include "test.h"

/* Two hunks of x.c: 2 lines added after old line 20 (old 18-23 shown),
 * and old lines 50-52 replaced by one (old 48-54, 3 lines of context). */
static const char diff_text[] = "--- a/x.c\n+++ b/x.c\n"
				"@@ -18,6 +18,8 @@\n ctx\n ctx\n ctx\n+new\n+new\n ctx\n ctx\n ctx\n"
				"@@ -48,7 +50,5 @@\n ctx\n ctx\n-old\n-old\n-old\n+new\n ctx\n ctx\n";

static void load(struct diff_info *d)
{
	char path[PATH_MAX];
	FILE *f;

	snprintf(path, sizeof(path), "%s/fix.patch", test_tmpdir());
	f = fopen(path, "w");
	ASSERT_TRUE(f != NULL);
	fputs(diff_text, f);
	fclose(f);
	ASSERT_EQ(diffparse(path, d), 0);
}

TEST(lines_move_by_the_hunks_above_them)
{
	struct diff_info d;

	load(&d);
	ASSERT_FALSE(diff_moves_line(&d, 10, 10)); /* above every hunk: not moved */
	ASSERT_FALSE(diff_moves_line(&d, 10, 12));
	ASSERT_TRUE(diff_moves_line(&d, 30, 32));  /* between the hunks: +2 */
	ASSERT_FALSE(diff_moves_line(&d, 30, 31));
	/* below both, +2 -2: where it was, so nothing to explain */
	ASSERT_FALSE(diff_moves_line(&d, 60, 60));
	ASSERT_FALSE(diff_moves_line(&d, 60, 62));
	diffparse_free(&d);
}

TEST(lines_inside_a_hunk_never_count_as_moved)
{
	struct diff_info d;

	load(&d);
	for (unsigned old = 18; old < 24; old++)
		for (unsigned now = 1; now < 80; now++)
			ASSERT_FALSE(diff_moves_line(&d, old, now));
	ASSERT_FALSE(diff_moves_line(&d, 50, 52));
	diffparse_free(&d);
}

TEST(only_an_immediate_that_is_a_moved_line_may_differ)
{
	/* mov $30,%edx ; ret  vs  mov $32,%edx ; ret */
	static const uint8_t a[] = {0xba, 30, 0, 0, 0, 0xc3}, b[] = {0xba, 32, 0, 0, 0, 0xc3};
	/* mov $31,%edx: a shift the diff does not make */
	static const uint8_t c[] = {0xba, 31, 0, 0, 0, 0xc3};
	/* mov $30,%ecx: another register, same immediate */
	static const uint8_t e[] = {0xb9, 30, 0, 0, 0, 0xc3};
	/* movl $30,0x0(%rip) vs $32: the immediate after a displacement */
	static const uint8_t f[] = {0xc7, 0x05, 0, 0, 0, 0, 30, 0, 0, 0};
	static const uint8_t g[] = {0xc7, 0x05, 0, 0, 0, 0, 32, 0, 0, 0};
	static const uint8_t h[] = {0xc7, 0x05, 1, 0, 0, 0, 32, 0, 0, 0};
	struct diff_info d;

	load(&d);
	ASSERT_TRUE(linemove_only(a, b, sizeof(a), &d));
	ASSERT_FALSE(linemove_only(a, c, sizeof(a), &d));
	ASSERT_FALSE(linemove_only(e, b, sizeof(a), &d));
	ASSERT_FALSE(linemove_only(a, a, sizeof(a), &d)); /* nothing moved at all */
	ASSERT_TRUE(linemove_only(f, g, sizeof(f), &d));
	ASSERT_FALSE(linemove_only(f, h, sizeof(f), &d));
	ASSERT_FALSE(linemove_only(a, b, sizeof(a), NULL));
	diffparse_free(&d);
}
