/* SPDX-License-Identifier: MIT */
/* A small streaming JSON writer for --json output, the audit log and the
 * daemon's replies. Commas and escaping are handled here, never by callers. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "buf.h"

#define JSON_DEPTH_MAX 32

struct json {
	struct buf out;
	int depth;
	bool need_comma[JSON_DEPTH_MAX];
	bool after_key;
};

void json_obj_begin(struct json *j);
void json_obj_end(struct json *j);
void json_arr_begin(struct json *j);
void json_arr_end(struct json *j);
void json_key(struct json *j, const char *key);
void json_str(struct json *j, const char *s);
void json_int(struct json *j, int64_t v);
void json_bool(struct json *j, bool v);
void json_null(struct json *j);
/* Shorthands for "key": value inside an object. */
void json_kv_str(struct json *j, const char *key, const char *s);
void json_kv_int(struct json *j, const char *key, int64_t v);
void json_kv_bool(struct json *j, const char *key, bool v);
/* The text so far (NUL-terminated), owned by @j. */
const char *json_text(struct json *j);
void json_free(struct json *j);
