/* SPDX-License-Identifier: MIT */
/*
 * The second half of `hotpatch status`: every bundle in the store and where
 * it stands on disk (live-only, installed, applied, staged for commit,
 * committed, superseded, rolled back). The first half reads the processes.
 */
#include <dirent.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "commitstate.h"
#include "engine.h"
#include "error.h"
#include "fileio.h"
#include "fixedfile.h"
#include "json.h"
#include "macro.h"
#include "paths.h"
#include "store.h"

struct stored {
	char id[BUNDLE_ID_LEN + 1];
	char name[128];
	char target[PATH_MAX];
	bool live_only;
	const char *state;  /* see state_of() */
	const char *detail; /* one more word for a human, or "" */
	size_t processes;   /* that carry it now */
	const char *dpkg;   /* committed: "installed" or "modified" (see dpkg_words), or "" */
	char package[256];  /* the package installed, "name version" */
};

static size_t count_in(const char *id, const char *const *applied, size_t n)
{
	size_t c = 0;

	for (size_t i = 0; i < n; i++)
		c += strcmp(applied[i], id) == 0;
	return c;
}

/* A committed file that no longer is the fix was replaced after the commit
 * (a package upgrade): the record is history, the disk is the truth. */
static bool still_fixed(const struct bundle *b, const char *target)
{
	_cleanup_free_ uint8_t *data = NULL;
	uint8_t sha[32];
	size_t len;

	if (file_read_all(target, 1ULL << 31, &data, &len) < 0) {
		hp_err_clear();
		return false;
	}
	crypto_hash_sha256(sha, data, len);
	return memcmp(sha, b->manifest.file_sha_fixed, 32) == 0;
}

static void state_of(const struct bundle *b, struct stored *s)
{
	struct commit_record rec = {0};

	s->detail = "";
	if (commitstate_get(b->id, &rec) < 0) {
		hp_err_clear();
		s->state = "unknown";
		s->detail = "its commit record is malformed";
		return;
	}
	switch (rec.state) {
	case CS_NONE:
		s->state = s->processes ? "applied" : "installed";
		if (s->live_only)
			s->state = "live-only";
		if (s->processes && engine_target_replaced(b)) {
			s->state = "caught-up";
			s->detail = "a package upgrade already replaced the file";
		}
		return;
	case CS_STAGED:
		s->state = "staged";
		return;
	case CS_COMMITTED:
		s->state = "committed";
		if (!still_fixed(b, rec.target[0] ? rec.target : s->target)) {
			s->state = "superseded";
			s->detail = "replaced on disk since the commit";
			return;
		}
		s->dpkg = !strcmp(rec.dpkg, "dpkg-installed")  ? "installed"
			  : !strcmp(rec.dpkg, "dpkg-modified") ? "modified"
							       : "";
		if (b->has_debref)
			snprintf(s->package, sizeof(s->package), "%s %s", b->debref.package,
				 b->debref.version);
		return;
	case CS_SUPERSEDED:
		s->state = "superseded";
		return;
	case CS_ROLLED_BACK:
		s->state = "rolled-back";
		return;
	}
}

static int read_one(const char *file, const char *const *applied, size_t napplied,
		    struct stored *ret)
{
	struct bundle_load_opts lo = {.insecure = true}; /* only read: nothing is used */
	struct bundle *b = NULL;
	char path[PATH_MAX];
	int r;

	snprintf(path, sizeof(path), "%s/%s", paths()->bundles, file);
	r = bundle_load(path, &lo, &b);
	if (r < 0)
		return r;
	*ret = (struct stored){.dpkg = ""};
	memcpy(ret->id, b->id, sizeof(ret->id));
	snprintf(ret->name, sizeof(ret->name), "%s", b->manifest.name);
	snprintf(ret->target, sizeof(ret->target), "%s", b->manifest.target_path);
	ret->live_only = !fixedfile_present(b);
	ret->processes = count_in(b->id, applied, napplied);
	state_of(b, ret);
	bundle_free(b);
	return 0;
}

static int cmp_stored(const void *a, const void *b)
{
	return strcmp(((const struct stored *)a)->id, ((const struct stored *)b)->id);
}

static size_t collect(const char *const *applied, size_t napplied, struct stored **ret)
{
	struct stored *v = NULL;
	struct dirent *de;
	size_t n = 0;
	DIR *d = opendir(paths()->bundles);

	while (d && (de = readdir(d))) {
		struct stored one, *nv;
		size_t len = strlen(de->d_name);

		if (len != BUNDLE_ID_LEN + 4 || strcmp(de->d_name + BUNDLE_ID_LEN, ".hpb") != 0 ||
		    read_one(de->d_name, applied, napplied, &one) < 0)
			continue;
		nv = realloc(v, (n + 1) * sizeof(*nv));
		if (!nv)
			break;
		v = nv;
		v[n++] = one;
	}
	if (d)
		closedir(d);
	hp_err_clear();
	if (n)
		qsort(v, n, sizeof(*v), cmp_stored);
	*ret = v;
	return n;
}

static const char *human(const struct stored *s)
{
	static const struct {
		const char *state, *text;
	} words[] = {
		{"live-only", "live-only (built from patch source: no fixed file to commit)"},
		{"installed", "installed (not applied, not staged)"},
		{"applied", "applied (not staged for commit)"},
		{"caught-up", "caught up (live in processes of the old build; nothing to commit)"},
		{"staged", "staged for commit (at the next boot, or `hotpatch commit`)"},
		{"committed", "committed (the fixed file is on disk)"},
		{"superseded", "superseded (the file on disk is neither original nor fix)"},
		{"rolled-back", "rolled back (the original is on disk again)"},
	};

	for (size_t i = 0; i < ARRAY_SIZE(words); i++)
		if (strcmp(words[i].state, s->state) == 0)
			return words[i].text;
	return s->state;
}

/* What dpkg and debsums users see of a commit. */
static void print_dpkg(const struct stored *s)
{
	if (!strcmp(s->dpkg, "installed"))
		printf("    dpkg: %s installed by the commit; dpkg --verify agrees with the file\n",
		       s->package);
	else if (!strcmp(s->dpkg, "modified"))
		printf("    dpkg: the file is a package's, replaced: dpkg --verify and debsums "
		       "report it changed, and dpkg lists the version it shipped (rollback, or "
		       "reinstalling the package, puts Debian's file back)\n");
}

void status_store_text(const char *const *applied, size_t napplied)
{
	struct stored *v = NULL;
	size_t n = collect(applied, napplied, &v);

	if (!n) {
		free(v);
		return;
	}
	printf("stored patches:\n");
	for (size_t i = 0; i < n; i++) {
		printf("  %s  %s  %s\n", v[i].id, v[i].name, v[i].target);
		printf("    %s", human(&v[i]));
		if (v[i].detail[0])
			printf(": %s", v[i].detail);
		if (v[i].processes && strcmp(v[i].state, "applied") != 0)
			printf("; applied in %zu process%s", v[i].processes,
			       v[i].processes == 1 ? "" : "es");
		else if (v[i].processes)
			printf(" in %zu process%s", v[i].processes, v[i].processes == 1 ? "" : "es");
		printf("\n");
		print_dpkg(&v[i]);
	}
	free(v);
}

void status_store_json(struct json *j, const char *const *applied, size_t napplied)
{
	struct stored *v = NULL;
	size_t n = collect(applied, napplied, &v);

	json_key(j, "stored");
	json_arr_begin(j);
	for (size_t i = 0; i < n; i++) {
		json_obj_begin(j);
		json_kv_str(j, "id", v[i].id);
		json_kv_str(j, "name", v[i].name);
		json_kv_str(j, "target", v[i].target);
		json_kv_str(j, "state", v[i].state);
		json_kv_bool(j, "file_update", !v[i].live_only);
		json_kv_int(j, "processes", (int64_t)v[i].processes);
		if (v[i].detail[0])
			json_kv_str(j, "detail", v[i].detail);
		if (v[i].dpkg[0])
			json_kv_str(j, "dpkg", v[i].dpkg);
		if (!strcmp(v[i].dpkg, "installed"))
			json_kv_str(j, "package", v[i].package);
		json_obj_end(j);
	}
	json_arr_end(j);
	free(v);
}
