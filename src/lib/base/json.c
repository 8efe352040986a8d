/* SPDX-License-Identifier: MIT */
#include "json.h"

#include <inttypes.h>
#include <string.h>

#include "macro.h"

/* Past JSON_DEPTH_MAX levels, commas are tracked in the deepest slot: still
 * balanced, still valid for the (never seen) deeper levels' first elements. */
static bool *comma_slot(struct json *j)
{
	return &j->need_comma[MIN(j->depth, JSON_DEPTH_MAX) - 1];
}

static void sep(struct json *j)
{
	if (j->after_key) {
		j->after_key = false;
		return;
	}
	if (j->depth > 0 && *comma_slot(j))
		buf_put(&j->out, ",", 1);
	if (j->depth > 0)
		*comma_slot(j) = true;
}

static void open_scope(struct json *j, char c)
{
	sep(j);
	buf_put(&j->out, &c, 1);
	j->depth++;
	*comma_slot(j) = false;
}

static void close_scope(struct json *j, char c)
{
	if (j->depth > 0)
		j->depth--;
	buf_put(&j->out, &c, 1);
	/* Leaving a level deeper than the limit: the shared slot belongs to
	 * the enclosing element now, which was not empty. */
	if (j->depth >= JSON_DEPTH_MAX)
		*comma_slot(j) = true;
}

void json_obj_begin(struct json *j)
{
	open_scope(j, '{');
}

void json_obj_end(struct json *j)
{
	close_scope(j, '}');
}

void json_arr_begin(struct json *j)
{
	open_scope(j, '[');
}

void json_arr_end(struct json *j)
{
	close_scope(j, ']');
}

static void put_string(struct json *j, const char *s)
{
	buf_put(&j->out, "\"", 1);
	for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
		if (*p == '"' || *p == '\\') {
			buf_put(&j->out, "\\", 1);
			buf_put(&j->out, p, 1);
		} else if (*p < 0x20) {
			buf_printf(&j->out, "\\u%04x", *p);
		} else {
			buf_put(&j->out, p, 1);
		}
	}
	buf_put(&j->out, "\"", 1);
}

void json_key(struct json *j, const char *key)
{
	sep(j);
	put_string(j, key);
	buf_put(&j->out, ":", 1);
	j->after_key = true;
}

void json_str(struct json *j, const char *s)
{
	sep(j);
	put_string(j, s);
}

void json_int(struct json *j, int64_t v)
{
	sep(j);
	buf_printf(&j->out, "%" PRId64, v);
}

void json_bool(struct json *j, bool v)
{
	sep(j);
	buf_printf(&j->out, "%s", v ? "true" : "false");
}

void json_null(struct json *j)
{
	sep(j);
	buf_printf(&j->out, "null");
}

void json_kv_str(struct json *j, const char *key, const char *s)
{
	json_key(j, key);
	json_str(j, s);
}

void json_kv_int(struct json *j, const char *key, int64_t v)
{
	json_key(j, key);
	json_int(j, v);
}

void json_kv_bool(struct json *j, const char *key, bool v)
{
	json_key(j, key);
	json_bool(j, v);
}

const char *json_text(struct json *j)
{
	const char *s = buf_cstr(&j->out);

	return s ? s : "";
}

void json_free(struct json *j)
{
	buf_free(&j->out);
	*j = (struct json){0};
}
