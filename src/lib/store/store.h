/* SPDX-License-Identifier: MIT */
/*
 * The store under var/lib/hotpatch: bundles/<id>.hpb (the files exactly as
 * signed) and objects/<id>.hpo (patch objects, mapped from here into every
 * patched process so their text pages are shared). Root-owned, and not
 * writable by anyone else.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "bundle.h"

int store_ensure_dirs(void);
/* Writes objects/<id>.hpo if missing (or different), not synced: call it
 * before every use of the object. Returns its path. */
int store_object(const struct bundle *b, char *ret_path, size_t len);
/* Saves the bundle file (as signed) under bundles/<id>.hpb, durably; a stored
 * copy of the same payload whose signature still verifies is kept. */
int store_save_bundle(const struct bundle *b);
/* Resolves an id or unique id prefix to bundles/<id>.hpb. */
int store_lookup(const char *id, char *ret_path, size_t len);
int store_bundle_path(const char *id, char *ret_path, size_t len);
/* Enabled patches are kept applied by hotpatchd: an empty file per id under
 * state/enabled, so the choice survives restarts. */
int store_set_enabled(const char *id, bool enabled);
bool store_is_enabled(const char *id);
/* The ids of every enabled patch (sorted). */
int store_enabled(char ***ret, size_t *ret_n);
/* The id of the stored bundle whose manifest is named @name. */
int store_find_name(const char *name, char ret_id[BUNDLE_ID_LEN + 1]);
/* A stored bundle for the build with @build_id (hex), the first found;
 * -ENOENT when there is none. */
int store_find_build(const char *build_id, char ret_id[BUNDLE_ID_LEN + 1]);
