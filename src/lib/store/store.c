/* SPDX-License-Identifier: MIT */
#include "store.h"

#include <dirent.h>
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"
#include "fileio.h"
#include "hex.h"
#include "macro.h"
#include "paths.h"
#include "trust.h"

int store_ensure_dirs(void)
{
	const struct hp_paths *p = paths();
	const char *dirs[] = {p->bundles, p->objects, p->backups, p->state, p->enabled};

	for (size_t i = 0; i < ARRAY_SIZE(dirs); i++) {
		int r = mkdir_p(dirs[i], 0755);

		if (r < 0)
			return r;
	}
	return 0;
}

static bool same_content(const char *path, const uint8_t *data, size_t len)
{
	_cleanup_free_ uint8_t *cur = NULL;
	size_t n;

	if (file_read_all(path, BUNDLE_MAX_SIZE, &cur, &n) < 0) {
		hp_err_clear();
		return false;
	}
	return n == len && memcmp(cur, data, len) == 0;
}

/* Not synced: every user (apply, enable, the daemon) calls this first and
 * so compares the copy with the bundle's object, and a power cut leaves no
 * process that maps it. */
int store_object(const struct bundle *b, char *ret_path, size_t len)
{
	int r = store_ensure_dirs();

	if (r < 0)
		return r;
	snprintf(ret_path, len, "%s/%s.hpo", paths()->objects, b->id);
	if (same_content(ret_path, b->object, b->object_size))
		return 0;
	/* A new inode: processes that map an older copy keep it. */
	return file_write_cached(ret_path, b->object, b->object_size, 0644);
}

/* The stored file may stay when it is @b's bytes, or @b's payload under
 * another signature that still verifies with the trusted keys: two files of
 * one patch id (re-signed, or signed by a second key) applied in turn would
 * otherwise replace each other, two fsyncs each time. */
static bool stored_bundle_serves(const char *path, const struct bundle *b)
{
	_cleanup_free_ uint8_t *cur = NULL;
	const uint8_t *sig;
	size_t n, payload, siglen;
	char signer[17];

	if (file_read_all(path, BUNDLE_MAX_SIZE, &cur, &n) < 0)
		goto no;
	if (n == b->size && memcmp(cur, b->data, n) == 0)
		return true;
	if (bundle_split(cur, n, &payload, &sig, &siglen) < 0 || !sig ||
	    payload != b->payload_size || memcmp(cur, b->data, payload) != 0 ||
	    trust_verify_bundle(cur, payload, sig, siglen, signer, NULL) < 0)
		goto no;
	return true;
no:
	hp_err_clear();
	return false;
}

int store_bundle_path(const char *id, char *ret_path, size_t len)
{
	snprintf(ret_path, len, "%s/%s.hpb", paths()->bundles, id);
	return 0;
}

int store_save_bundle(const struct bundle *b)
{
	char path[PATH_MAX];
	int r = store_ensure_dirs();

	if (r < 0)
		return r;
	store_bundle_path(b->id, path, sizeof(path));
	if (stored_bundle_serves(path, b))
		return 0;
	return file_write_atomic(path, b->data, b->size, 0644);
}

/* How many stored bundles @match accepts; the first one's id in @ret_id. */
static size_t find_by(bool (*match)(const struct bundle *b, const void *arg), const void *arg,
		      char ret_id[BUNDLE_ID_LEN + 1])
{
	struct bundle_load_opts lo = {.insecure = true};
	size_t matches = 0;
	struct dirent *de;
	DIR *d;

	d = opendir(paths()->bundles);
	while (d && (de = readdir(d))) {
		char path[PATH_MAX];
		struct bundle *b;

		if (strlen(de->d_name) != BUNDLE_ID_LEN + 4)
			continue;
		snprintf(path, sizeof(path), "%s/%s", paths()->bundles, de->d_name);
		/* Only the manifest is read here; whoever uses the bundle verifies it. */
		if (bundle_load(path, &lo, &b) < 0)
			continue;
		if (match(b, arg) && matches++ == 0)
			memcpy(ret_id, b->id, BUNDLE_ID_LEN + 1);
		bundle_free(b);
	}
	if (d)
		closedir(d);
	hp_err_clear();
	return matches;
}

static bool named(const struct bundle *b, const void *name)
{
	return strcmp(b->manifest.name, name) == 0;
}

static bool for_build(const struct bundle *b, const void *build_id)
{
	char hex[2 * sizeof(b->manifest.build_id) + 1];

	hex_encode(b->manifest.build_id, b->manifest.build_id_len, hex);
	return strcmp(hex, build_id) == 0;
}

int store_find_name(const char *name, char ret_id[BUNDLE_ID_LEN + 1])
{
	size_t matches = find_by(named, name, ret_id);

	if (matches > 1)
		return hp_err(-ENOTUNIQ, "several stored patches are named '%s'; use the id", name);
	return matches ? 0 : -ENOENT;
}

int store_find_build(const char *build_id, char ret_id[BUNDLE_ID_LEN + 1])
{
	return find_by(for_build, build_id, ret_id) ? 0 : -ENOENT;
}

int store_lookup(const char *id, char *ret_path, size_t len)
{
	size_t idlen = strlen(id), matches = 0;
	struct dirent *de;
	DIR *d;

	if (idlen < 4 || idlen > BUNDLE_ID_LEN || strspn(id, "0123456789abcdef") != idlen)
		return -EINVAL;
	/* A whole id names one file: no need to read the directory (every
	 * apply looks its patch up again when it stages a commit). */
	store_bundle_path(id, ret_path, len);
	if (idlen == BUNDLE_ID_LEN && access(ret_path, F_OK) == 0)
		return 0;
	d = opendir(paths()->bundles);
	if (!d)
		return hp_err(-ENOENT, "no bundle %s in the store (%s)", id, paths()->bundles);
	while ((de = readdir(d))) {
		size_t n = strlen(de->d_name);

		if (n != BUNDLE_ID_LEN + 4 || strcmp(de->d_name + BUNDLE_ID_LEN, ".hpb") != 0 ||
		    strncmp(de->d_name, id, idlen) != 0)
			continue;
		matches++;
		snprintf(ret_path, len, "%s/%s", paths()->bundles, de->d_name);
	}
	closedir(d);
	if (matches > 1)
		return hp_err(-ENOTUNIQ, "bundle id %s is ambiguous; give more digits", id);
	if (!matches)
		return hp_err(-ENOENT, "no bundle %s in the store; install it with `hotpatch install`",
			      id);
	return 0;
}

int store_set_enabled(const char *id, bool enabled)
{
	char path[PATH_MAX];
	int r = store_ensure_dirs();

	if (r < 0)
		return r;
	snprintf(path, sizeof(path), "%s/%s", paths()->enabled, id);
	if (enabled)
		return file_write_atomic(path, "", 0, 0644);
	if (unlink(path) < 0 && errno != ENOENT)
		return hp_err(-errno, "cannot remove %s: %m", path);
	return 0;
}

bool store_is_enabled(const char *id)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", paths()->enabled, id);
	return access(path, F_OK) == 0;
}

static int cmp_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int store_enabled(char ***ret, size_t *ret_n)
{
	char **v = NULL;
	size_t n = 0;
	struct dirent *de;
	DIR *d = opendir(paths()->enabled);

	while (d && (de = readdir(d))) {
		char **nv;

		if (strlen(de->d_name) != BUNDLE_ID_LEN ||
		    strspn(de->d_name, "0123456789abcdef") != BUNDLE_ID_LEN)
			continue;
		nv = realloc(v, (n + 1) * sizeof(*nv));
		if (!nv || !(nv[n] = strdup(de->d_name))) {
			free(nv ? nv : v);
			closedir(d);
			return hp_err(-ENOMEM, "out of memory");
		}
		v = nv;
		n++;
	}
	if (d)
		closedir(d);
	if (n)
		qsort(v, n, sizeof(*v), cmp_name);
	*ret = v;
	*ret_n = n;
	return 0;
}
