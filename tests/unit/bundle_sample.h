/* SPDX-License-Identifier: MIT */
/* The sample bundle shared by test_bundle.c and test_bundle_signed.c: a
 * manifest with one function, a pretend object, an explanation and, when
 * asked, a file update. Include after test.h. */
#pragma once

#include <sodium.h>

#include "bundle.h"

static uint8_t code[8] = {0x55, 0x48, 0x89, 0xe5, 0x31, 0xc0, 0x5d, 0xc3};
static struct manifest_func func = {"f", "f.c", 0x1130, sizeof(code), 0, code, "f_new", 0x40};
static const uint8_t object[] = "\x7f" "ELF pretend object bytes";
static const char explain[] = "Fixes the overflow in f().\n";
static const uint8_t update[] = {0x28, 0xb5, 0x2f, 0xfd, 1, 2, 3};

static void sample_manifest(struct manifest *m)
{
	*m = (struct manifest){
		.name = "fix-f",
		.description = "d",
		.target_path = "/usr/bin/t",
		.build_id = {0xab, 0xcd},
		.build_id_len = 2,
		.target_type = 3,
		.funcs = &func,
		.nfuncs = 1,
		.tool_version = "0.1.0",
	};
}

/* Writes a bundle with manifest, object and explanation (the smallest
 * realistic one) to a temp dir; returns the path and the file's bytes. */
static char *write_sample(const char *dir, bool with_update, uint8_t **ret_data,
			  size_t *ret_size)
{
	struct manifest m;
	struct bundle_parts parts = {.manifest = &m, .object = object,
				     .object_size = sizeof(object), .explain = explain};
	char *path;

	sample_manifest(&m);
	if (with_update) {
		parts.file_update = update;
		parts.file_update_size = sizeof(update);
	}
	ASSERT_TRUE(asprintf(&path, "%s/b.hpb", dir) > 0);
	ASSERT_OK(bundle_write(path, &parts));
	if (ret_data)
		*ret_data = (uint8_t *)test_read_file(path, ret_size);
	return path;
}

static void assert_sample(const struct bundle *b, bool with_update)
{
	ASSERT_STREQ(b->manifest.name, "fix-f");
	ASSERT_STREQ(b->manifest.target_path, "/usr/bin/t");
	ASSERT_EQ(b->manifest.build_id_len, 2);
	ASSERT_EQ(b->manifest.nfuncs, 1);
	ASSERT_STREQ(b->manifest.funcs[0].new_name, "f_new");
	ASSERT_MEMEQ(b->manifest.funcs[0].expected, code, sizeof(code));
	ASSERT_EQ(b->object_size, sizeof(object));
	ASSERT_MEMEQ(b->object, object, sizeof(object));
	ASSERT_EQ(b->explain_len, strlen(explain));
	ASSERT_MEMEQ(b->explain, explain, strlen(explain));
	if (with_update) {
		ASSERT_EQ(b->file_update_size, sizeof(update));
		ASSERT_MEMEQ(b->file_update, update, sizeof(update));
	} else {
		ASSERT_NULL(b->file_update);
	}
}
