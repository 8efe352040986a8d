/* SPDX-License-Identifier: MIT */
/* nofix.c: the build host's "nothing to patch" record, written by the
 * builder and read by catch-up. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"
#include "nofix.h"

#include "test.h"

#define ID "c306842ebd027d0bf203b8251c29883dc3dc860f"

static void sample(struct nofix *n)
{
	char *cves[] = {"CVE-2099-5678"};

	*n = (struct nofix){.build_id = ID, .target = "/usr/bin/memcached", .package = "memcached",
			    .from = "1.6.18-1", .to = "1.6.18-1+deb12u1", .created = 1700000000};
	ASSERT_OK(verdict_add_fix(&n->v, "0002-other.patch", cves, 1, "not-in-file",
				  "another binary's code"));
}

TEST(round_trip)
{
	struct nofix n, back;
	struct buf text = {0};

	sample(&n);
	nofix_encode(&n, &text);
	ASSERT_OK(nofix_decode((const char *)text.data, text.len, &back));
	ASSERT_STREQ(back.build_id, ID);
	ASSERT_STREQ(back.target, "/usr/bin/memcached");
	ASSERT_STREQ(back.from, "1.6.18-1");
	ASSERT_STREQ(back.to, "1.6.18-1+deb12u1");
	ASSERT_EQ(back.created, 1700000000);
	ASSERT_EQ(back.v.nfixes, 1);
	ASSERT_STREQ(back.v.fixes[0].verdict, "not-in-file");
	ASSERT_STREQ(back.v.fixes[0].cves[0], "CVE-2099-5678");
	nofix_free(&back);
	nofix_free(&n);
	buf_free(&text);
}

TEST(malformed_records_are_refused)
{
	static const char *const bad[] = {
		"",
		"hotpatch-bundle\t1\n\n",
		"hotpatch-no-fix\t1\nbuild-id\t" ID "\n",               /* no empty line */
		"hotpatch-no-fix\t1\nbuild-id\t" ID "\npackage\tx\n\n", /* no from, to */
		"hotpatch-no-fix\t1\nbuild-id\t" ID "\npackage\tx\nfrom\t1\nto\t2\nbogus\t1\n\n",
		"hotpatch-no-fix\t1\nbuild-id\t" ID "\npackage\tx\nfrom\t1\nto\t2\n\nfix\tonly\n",
	};
	struct nofix n;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ASSERT_EQ(nofix_decode(bad[i], strlen(bad[i]), &n), -EBADMSG);
		hp_err_clear();
	}
}

/* Only a root-owned file only root can write, named after its build. */
TEST(find_trusts_only_root_files_named_after_their_build)
{
	char dir[] = "/tmp/hp-nofix-XXXXXX", path[128], other[128];
	struct nofix n;
	struct buf text = {0};
	FILE *f;

	if (geteuid() != 0)
		return; /* the ownership check needs root's files */
	ASSERT_NOT_NULL(mkdtemp(dir));
	sample(&n);
	nofix_encode(&n, &text);
	nofix_free(&n);
	snprintf(path, sizeof(path), "%s/" ID, dir);
	f = fopen(path, "w");
	ASSERT_NOT_NULL(f);
	fwrite(text.data, 1, text.len, f);
	fclose(f);
	chmod(path, 0644);
	ASSERT_OK(nofix_find(dir, ID, &n));
	ASSERT_STREQ(n.package, "memcached");
	nofix_free(&n);
	ASSERT_EQ(nofix_find(dir, "ab", &n), -ENOENT);
	ASSERT_EQ(nofix_find(dir, "../x", &n), -EINVAL);
	chmod(path, 0664);
	ASSERT_EQ(nofix_find(dir, ID, &n), -EPERM);
	chmod(path, 0644);
	snprintf(other, sizeof(other), "%s/ab", dir);
	ASSERT_EQ(rename(path, other), 0);
	ASSERT_EQ(nofix_find(dir, "ab", &n), -EBADMSG); /* another build's record */
	unlink(other);
	rmdir(dir);
	hp_err_clear();
	buf_free(&text);
}
