/* SPDX-License-Identifier: MIT */
/* debref.c: the package record of an --upgrade-to bundle. Its names become
 * file names and dpkg arguments, so anything outside Debian's alphabets is
 * refused, as is a record missing a field or repeating one. */
#include "debref.h"

#include <stdio.h>
#include <stdlib.h>

#include "test.h"

static const char good[] = "package=libexpat1\nversion=2.5.0-1+deb12u1\nfrom-version=2.5.0-1\n"
			   "architecture=amd64\nsha256="
			   "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\n"
			   "size=1234\n";

TEST(round_trip)
{
	struct debref d;
	char *text = NULL;

	ASSERT_OK(debref_parse(good, strlen(good), &d));
	ASSERT_STREQ(d.package, "libexpat1");
	ASSERT_STREQ(d.version, "2.5.0-1+deb12u1");
	ASSERT_STREQ(d.from_version, "2.5.0-1");
	ASSERT_STREQ(d.arch, "amd64");
	ASSERT_EQ(d.sha256[31], 0xff);
	ASSERT_EQ(d.size, 1234);
	ASSERT_OK(debref_format(&d, &text));
	ASSERT_STREQ(text, good);
	free(text);
}

TEST(apt_filename_escapes_the_epoch)
{
	struct debref d = {.package = "hpup", .version = "5:1.0-2", .arch = "amd64"};
	char name[256];

	debref_apt_filename(&d, name, sizeof(name));
	ASSERT_STREQ(name, "hpup_5%3a1.0-2_amd64.deb");
	snprintf(d.version, sizeof(d.version), "1.0-2");
	debref_apt_filename(&d, name, sizeof(name));
	ASSERT_STREQ(name, "hpup_1.0-2_amd64.deb");
}

static void refused(const char *from, const char *to)
{
	char text[1024];
	const char *at = strstr(good, from);
	struct debref d;

	ASSERT_NOT_NULL(at);
	snprintf(text, sizeof(text), "%.*s%s%s", (int)(at - good), good, to, at + strlen(from));
	ASSERT_ERR(debref_parse(text, strlen(text), &d), -EBADMSG);
}

TEST(refuses_what_is_no_debian_name)
{
	refused("package=libexpat1", "package=../../etc/x");
	refused("package=libexpat1", "package=-o");
	refused("version=2.5.0-1+deb12u1", "version=2.5 0");
	refused("architecture=amd64", "architecture=amd64/..");
	refused("sha256=00", "sha256=zz");
	refused("size=1234", "size=12a");
}

TEST(refuses_missing_and_repeated_fields)
{
	refused("size=1234\n", "");
	refused("size=1234\n", "size=1234\nsize=1\n");
	refused("size=1234\n", "size=1234\nsigner=x\n");
	refused("size=1234\n", "size=1234");
}
