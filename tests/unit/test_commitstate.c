/* SPDX-License-Identifier: MIT */
/* commitstate.c: the per-bundle commit records, under a private root. */
#include "commitstate.h"

#include <sys/stat.h>

#include "fileio.h"
#include "paths.h"
#include "test.h"

static const char *ID_A = "00112233aabbccdd";
static const char *ID_B = "ffeeddcc00112233";

static void use_tmp_root(void)
{
	ASSERT_OK(paths_init(test_tmpdir()));
}

TEST(no_record_is_none)
{
	struct commit_record rec = {.state = CS_COMMITTED};

	use_tmp_root();
	ASSERT_OK(commitstate_get(ID_A, &rec));
	ASSERT_EQ(rec.state, CS_NONE);
	ASSERT_STREQ(commitstate_name(rec.state), "installed");
}

TEST(round_trip_every_state)
{
	static const enum commit_state states[] = {CS_STAGED, CS_COMMITTED, CS_SUPERSEDED,
						   CS_ROLLED_BACK};
	struct commit_record rec;

	use_tmp_root();
	for (size_t i = 0; i < sizeof(states) / sizeof(states[0]); i++) {
		ASSERT_OK(commitstate_set(ID_A, states[i], "/usr/bin/x"));
		ASSERT_OK(commitstate_get(ID_A, &rec));
		ASSERT_EQ(rec.state, states[i]);
		ASSERT_STREQ(rec.target, "/usr/bin/x");
		ASSERT_TRUE(rec.when > 0);
	}
	ASSERT_OK(commitstate_set(ID_A, CS_NONE, NULL));
	ASSERT_OK(commitstate_get(ID_A, &rec));
	ASSERT_EQ(rec.state, CS_NONE);
}

TEST(backups_are_root_only)
{
	struct stat st;

	use_tmp_root();
	ASSERT_OK(commitstate_ensure_dirs());
	ASSERT_OK(stat(paths()->backups, &st));
	ASSERT_EQ(st.st_mode & 0777, 0700);
}

TEST(malformed_record_is_an_error)
{
	char path[PATH_MAX];
	struct commit_record rec;

	use_tmp_root();
	ASSERT_OK(commitstate_set(ID_A, CS_STAGED, "/x"));
	snprintf(path, sizeof(path), "%s/commit/%s", paths()->state, ID_A);
	ASSERT_OK(file_write_atomic(path, "state=bogus\n", 12, 0644));
	ASSERT_ERR(commitstate_get(ID_A, &rec), -EBADMSG);
	ASSERT_CONTAINS(hp_err_msg(-EBADMSG), "malformed");
}

TEST(list_is_sorted_and_skips_other_files)
{
	char path[PATH_MAX], **ids = NULL;
	size_t n = 0;

	use_tmp_root();
	ASSERT_OK(commitstate_set(ID_B, CS_STAGED, "/b"));
	ASSERT_OK(commitstate_set(ID_A, CS_COMMITTED, "/a"));
	snprintf(path, sizeof(path), "%s/commit/notanid", paths()->state);
	ASSERT_OK(file_write_atomic(path, "", 0, 0644));
	ASSERT_OK(commitstate_list(&ids, &n));
	ASSERT_EQ(n, 2);
	ASSERT_STREQ(ids[0], ID_A);
	ASSERT_STREQ(ids[1], ID_B);
	for (size_t i = 0; i < n; i++)
		free(ids[i]);
	free(ids);
}

TEST(forget_drops_record_and_backup)
{
	char backup[PATH_MAX];
	struct commit_record rec;
	bool had = false;

	use_tmp_root();
	ASSERT_OK(commitstate_set(ID_A, CS_COMMITTED, "/a"));
	commitstate_backup_path(ID_A, backup, sizeof(backup));
	ASSERT_OK(file_write_atomic(backup, "orig", 4, 0600));
	ASSERT_OK(commitstate_forget(ID_A, &had));
	ASSERT_TRUE(had);
	ASSERT_TRUE(access(backup, F_OK) < 0);
	ASSERT_OK(commitstate_get(ID_A, &rec));
	ASSERT_EQ(rec.state, CS_NONE);
	ASSERT_OK(commitstate_forget(ID_A, &had));
	ASSERT_FALSE(had);
}
