/* SPDX-License-Identifier: MIT */
/* json.c: callers never write commas or escapes themselves, so the exact text
 * produced here is what --json users and the audit log see. */
#include "json.h"

#include "test.h"

TEST(empty_containers)
{
	struct json j = {0};

	json_arr_begin(&j);
	json_obj_begin(&j);
	json_obj_end(&j);
	json_arr_begin(&j);
	json_arr_end(&j);
	json_arr_end(&j);
	ASSERT_STREQ(json_text(&j), "[{},[]]");
	json_free(&j);
}

TEST(object_values_and_commas)
{
	struct json j = {0};

	json_obj_begin(&j);
	json_kv_int(&j, "a", 1);
	json_kv_str(&j, "b", "x");
	json_kv_bool(&j, "c", true);
	json_kv_bool(&j, "d", false);
	json_key(&j, "e");
	json_null(&j);
	json_obj_end(&j);
	ASSERT_STREQ(json_text(&j), "{\"a\":1,\"b\":\"x\",\"c\":true,\"d\":false,\"e\":null}");
	json_free(&j);
}

TEST(nesting)
{
	struct json j = {0};

	json_obj_begin(&j);
	json_key(&j, "list");
	json_arr_begin(&j);
	json_int(&j, 1);
	json_int(&j, 2);
	json_obj_begin(&j);
	json_key(&j, "k");
	json_arr_begin(&j);
	json_arr_end(&j);
	json_obj_end(&j);
	json_arr_end(&j);
	json_key(&j, "o");
	json_obj_begin(&j);
	json_key(&j, "x");
	json_null(&j);
	json_obj_end(&j);
	json_kv_int(&j, "after", 3);
	json_obj_end(&j);
	ASSERT_STREQ(json_text(&j),
		     "{\"list\":[1,2,{\"k\":[]}],\"o\":{\"x\":null},\"after\":3}");
	json_free(&j);
}

TEST(reusable_after_free)
{
	struct json j = {0};

	/* json_free() leaves a fresh writer: no stale comma or depth. */
	json_obj_begin(&j);
	json_obj_end(&j);
	ASSERT_STREQ(json_text(&j), "{}");
	json_free(&j);
	json_int(&j, 5);
	ASSERT_STREQ(json_text(&j), "5");
	json_free(&j);
}

TEST(int64_limits)
{
	struct json j = {0};

	json_arr_begin(&j);
	json_int(&j, INT64_MIN);
	json_int(&j, INT64_MAX);
	json_int(&j, 0);
	json_int(&j, -1);
	json_arr_end(&j);
	ASSERT_STREQ(json_text(&j), "[-9223372036854775808,9223372036854775807,0,-1]");
	json_free(&j);
}

TEST(escape_quotes_and_backslashes)
{
	struct json j = {0};

	json_arr_begin(&j);
	json_str(&j, "a\"b\\c");
	json_str(&j, "\\\"");
	json_str(&j, NULL); /* NULL is written as "" */
	json_arr_end(&j);
	ASSERT_STREQ(json_text(&j), "[\"a\\\"b\\\\c\",\"\\\\\\\"\",\"\"]");
	json_free(&j);
}

TEST(escape_control_characters)
{
	struct json j = {0};

	/* Every byte below 0x20 becomes \u00XX; DEL and non-ASCII pass as is. */
	json_str(&j, "\n\t\r\x01\x1f x\x7f\xc3\xa9");
	ASSERT_STREQ(json_text(&j),
		     "\"\\u000a\\u0009\\u000d\\u0001\\u001f x\x7f\xc3\xa9\"");
	json_free(&j);
}

TEST(keys_are_escaped_too)
{
	struct json j = {0};

	json_obj_begin(&j);
	json_kv_str(&j, "we\"ird\n", "v");
	json_obj_end(&j);
	ASSERT_STREQ(json_text(&j), "{\"we\\\"ird\\u000a\":\"v\"}");
	json_free(&j);
}

TEST(text_is_stable_while_writing)
{
	struct json j = {0};

	/* json_text() may be called midway; writing goes on after it. */
	json_arr_begin(&j);
	json_int(&j, 1);
	ASSERT_STREQ(json_text(&j), "[1");
	json_int(&j, 2);
	json_arr_end(&j);
	ASSERT_STREQ(json_text(&j), "[1,2]");
	json_free(&j);
	ASSERT_EQ(j.depth, 0);
	ASSERT_NULL(j.out.data);
}

/* Nesting at the limit must be exact; one level past it must not produce
 * broken JSON silently. */
static void nested_arrays(struct json *j, int depth, char *want, size_t len)
{
	size_t n = 0;

	for (int i = 0; i < depth; i++) {
		json_arr_begin(j);
		want[n++] = '[';
	}
	json_int(j, 1);
	json_int(j, 2);
	n += (size_t)snprintf(want + n, len - n, "1,2");
	for (int i = 0; i < depth; i++) {
		json_arr_end(j);
		want[n++] = ']';
	}
	want[n] = '\0';
}

TEST(nesting_at_depth_max)
{
	struct json j = {0};
	char want[256], got[256];

	nested_arrays(&j, JSON_DEPTH_MAX, want, sizeof(want));
	snprintf(got, sizeof(got), "%s", json_text(&j));
	json_free(&j);
	ASSERT_STREQ(got, want);
}

TEST(nesting_past_depth_max_stays_valid)
{
	struct json j = {0};
	char want[256], got[256];

	nested_arrays(&j, JSON_DEPTH_MAX + 1, want, sizeof(want));
	snprintf(got, sizeof(got), "%s", json_text(&j));
	json_free(&j);
	ASSERT_STREQ(got, want);
}
