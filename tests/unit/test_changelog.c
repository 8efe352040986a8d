/* SPDX-License-Identifier: MIT */
/* debversion.c and changelog.c: which fixes lie between the version a
 * process runs and the one installed, as `catch-up --list` reports them. */
#include "changelog.h"
#include "debversion.h"

#include "test.h"

#define SIGN(x) ((x) > 0 ? 1 : (x) < 0 ? -1 : 0)

TEST(versions_as_dpkg_orders_them)
{
	/* Pairs checked with `dpkg --compare-versions A lt B`. */
	static const char *const older[][2] = {
		{"1.0-1", "1.0-2"},
		{"1.0~rc1-1", "1.0-1"},
		{"1.0-1", "1:0.1-1"},
		{"2.9.14+dfsg-1.3~deb12u1", "2.9.14+dfsg-1.3~deb12u2"},
		{"2.9.14+dfsg-1.3~deb12u2", "2.9.14+dfsg-1.3"},
		{"1.6.18-1", "1.6.18-1+deb12u1"},
		{"1.9", "1.10"},
		{"1.0", "1.0-1"},
		{"1.0a", "1.0b"},
		{"1.0-1", "1.0-1.1"},
		{"2.36-9+deb12u9", "2.36-9+deb12u10"},
	};

	for (size_t i = 0; i < sizeof(older) / sizeof(older[0]); i++) {
		ASSERT_EQ(SIGN(debversion_cmp(older[i][0], older[i][1])), -1);
		ASSERT_EQ(SIGN(debversion_cmp(older[i][1], older[i][0])), 1);
	}
	ASSERT_EQ(debversion_cmp("1:2.3-4", "1:2.3-4"), 0);
	ASSERT_EQ(debversion_cmp("1.01", "1.1"), 0);
}

static const char log_text[] =
	"hpcu (1.0-3) bookworm-security; urgency=high\n"
	"\n"
	"  * Fix a crash (CVE-2099-3333).\n"
	"\n"
	" -- Tests <t@example.org>  Wed, 04 Jan 2023 10:00:00 +0000\n"
	"\n"
	"hpcu (1.0-2) bookworm-security; urgency=high\n"
	"\n"
	"  * 0001-fix.patch: refuse long names (CVE-2099-1111, CVE-2099-22222).\n"
	"  * Also CVE-2099-1111 again, and CVE-99-1 is not an id.\n"
	"\n"
	" -- Tests <t@example.org>  Tue, 03 Jan 2023 10:00:00 +0000\n"
	"\n"
	"hpcu (1.0-1) bookworm; urgency=medium\n"
	"\n"
	"  * Initial release, CVE-2099-0001 mentioned.\n"
	"\n"
	" -- Tests <t@example.org>  Mon, 02 Jan 2023 10:00:00 +0000\n";

TEST(cves_between_running_and_installed)
{
	struct changelog_cves c;

	ASSERT_OK(changelog_cves_between(log_text, strlen(log_text), "1.0-1", "1.0-2", &c));
	ASSERT_EQ(c.entries, 1);
	ASSERT_EQ(c.n, 2);
	ASSERT_STREQ(c.ids[0], "CVE-2099-1111");
	ASSERT_STREQ(c.ids[1], "CVE-2099-22222");
	changelog_cves_free(&c);

	/* Installed 1.0-3: both entries, newest first; the running one's own
	 * entry never counts. */
	ASSERT_OK(changelog_cves_between(log_text, strlen(log_text), "1.0-1", "1.0-3", &c));
	ASSERT_EQ(c.entries, 2);
	ASSERT_EQ(c.n, 3);
	ASSERT_STREQ(c.ids[0], "CVE-2099-3333");
	changelog_cves_free(&c);
}

TEST(running_version_not_in_the_changelog)
{
	struct changelog_cves c;

	/* A binNMU or a local build: the range is still by version. */
	ASSERT_OK(changelog_cves_between(log_text, strlen(log_text), "1.0-1+b1", "1.0-2", &c));
	ASSERT_EQ(c.entries, 1);
	ASSERT_EQ(c.n, 2);
	changelog_cves_free(&c);
}

TEST(nothing_between_equal_versions)
{
	struct changelog_cves c;

	ASSERT_OK(changelog_cves_between(log_text, strlen(log_text), "1.0-2", "1.0-2", &c));
	ASSERT_EQ(c.entries, 0);
	ASSERT_EQ(c.n, 0);
	changelog_cves_free(&c);
}

TEST(not_nul_terminated)
{
	struct changelog_cves c;
	size_t cut = strstr(log_text, "CVE-2099-22222") - log_text + strlen("CVE-2099-22");

	/* Cut inside an id: "CVE-2099-22" has too few digits. */
	ASSERT_OK(changelog_cves_between(log_text, cut, "1.0-1", "1.0-2", &c));
	ASSERT_EQ(c.n, 1);
	changelog_cves_free(&c);
}
