# SPDX-License-Identifier: MIT
"""A tiny Debian source package whose security update is a new upstream
release (issue 22 item 2): hpup 1.0-1 -> 1.1-1, with no Debian patch at all.

Upstream 1.1 fixes parse_len() in parse.c (CVE-2099-2001) and name_ok() in
name.c (CVE-2099-2002), and adds a member to struct counter in stats.c
(CVE-2099-2003), a layout change live data uses. The Debian changelog says
"New upstream release" and names the first two ids; upstream's NEWS names
all three. /usr/bin/hpup answers each line "N NAME" with
"parse_len(N) name_ok(NAME) hits".
"""
import os
import shutil

import debtiny
from debtiny import run, write

MAIN_C = r"""
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int parse_len(int n);
int name_ok(const char *s);
int count_hit(void);

int main(int argc, char **argv)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	int s = socket(AF_UNIX, SOCK_STREAM, 0);

	if (argc < 2 || s < 0)
		return 1;
	snprintf(a.sun_path, sizeof(a.sun_path), "%s", argv[1]);
	unlink(a.sun_path);
	if (bind(s, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(s, 8) < 0)
		return 1;
	for (;;) {
		char buf[64] = {0}, name[32] = "", out[96];
		int c = accept(s, NULL, NULL), n = 0;

		if (c < 0)
			continue;
		if (read(c, buf, sizeof(buf) - 1) > 0 && sscanf(buf, "%d %31s", &n, name) >= 1) {
			int len = snprintf(out, sizeof(out), "%d %d %d\n", parse_len(n), name_ok(name),
					   count_hit());
			if (write(c, out, (size_t)len) < 0)
				perror("write");
		}
		close(c);
	}
}
"""

PARSE_C = {
    "1.0": r"""
__attribute__((noinline)) int parse_len(int n)
{
	return n < 0 ? -1 : n;
}
""",
    "1.1": r"""
__attribute__((noinline)) int parse_len(int n)
{
	return n < 0 || n > 64 ? -1 : n;
}
""",
}

NAME_C = {
    "1.0": r"""
#include <string.h>

__attribute__((noinline)) int name_ok(const char *s)
{
	return strlen(s) > 0;
}
""",
    "1.1": r"""
#include <string.h>

__attribute__((noinline)) int name_ok(const char *s)
{
	/* a name is one path component */
	return strlen(s) > 0 && !strchr(s, '/');
}
""",
}

STATS_C = {
    "1.0": r"""
struct counter {
	int hits;
};

static struct counter counter;

__attribute__((noinline)) int count_hit(void)
{
	return ++counter.hits;
}
""",
    "1.1": r"""
struct counter {
	int hits;
	int misses;
};

static struct counter counter;

__attribute__((noinline)) int count_hit(void)
{
	return ++counter.hits;
}
""",
}

NEWS = {
    "1.0": "hpup 1.0\n\n * First release.\n",
    "1.1": """hpup 1.1

 * Fix parse_len accepting lengths that overflow the caller (CVE-2099-2001).
 * name_ok accepted names with a slash (CVE-2099-2002).
 * stats: count misses too (CVE-2099-2003).

hpup 1.0

 * First release.
""",
}

MAKEFILE = """
all: hpup
%.o: %.c
\t$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<
hpup: main.o parse.o name.o stats.o
\t$(CC) $(CFLAGS) $(LDFLAGS) -o $@ main.o parse.o name.o stats.o
install:
\tinstall -D -m 755 hpup $(DESTDIR)/usr/bin/hpup
clean:
\trm -f hpup *.o
"""

CONTROL = """Source: hpup
Section: utils
Priority: optional
Maintainer: Hotpatch Tests <tests@example.org>
Build-Depends: debhelper-compat (= 13)
Standards-Version: 4.6.2
Rules-Requires-Root: no

Package: hpup
Architecture: any
Depends: ${shlibs:Depends}, ${misc:Depends}
Description: tiny server for hotpatch's upstream-release test
 Answers parse_len, name_ok and a hit count on a UNIX socket.
"""

CHANGELOG_OLD = """hpup (1.0-1) bookworm; urgency=medium

  * Initial release.

 -- Hotpatch Tests <tests@example.org>  Mon, 02 Jan 2023 10:00:00 +0000
"""

CHANGELOG_NEW = """hpup (1.1-1) bookworm-security; urgency=high

  * New upstream security release: fixes CVE-2099-2001 in parse_len and
    CVE-2099-2002 in name_ok.

 -- Hotpatch Tests <tests@example.org>  Tue, 03 Jan 2023 10:00:00 +0000

""" + CHANGELOG_OLD


def make_sources(work):
    """Source packages hpup 1.0-1 and 1.1-1 (each with its own tarball) in
    work/archive."""
    archive = os.path.join(work, "archive")
    os.makedirs(archive)
    for up_version, version, changelog in (("1.0", "1.0-1", CHANGELOG_OLD),
                                           ("1.1", "1.1-1", CHANGELOG_NEW)):
        name = f"hpup-{up_version}"
        up = os.path.join(work, "up-" + up_version, name)
        write(os.path.join(up, "main.c"), MAIN_C)
        write(os.path.join(up, "parse.c"), PARSE_C[up_version])
        write(os.path.join(up, "name.c"), NAME_C[up_version])
        write(os.path.join(up, "stats.c"), STATS_C[up_version])
        write(os.path.join(up, "NEWS"), NEWS[up_version])
        write(os.path.join(up, "Makefile"), MAKEFILE)
        tarball = os.path.join(archive, f"hpup_{up_version}.orig.tar.gz")
        run(["tar", "-czf", tarball, "--mtime=2023-01-01", "--owner=0", "--group=0", name],
            cwd=os.path.dirname(up))
        tree = os.path.join(work, "src-" + version, name)
        shutil.copytree(up, tree)
        deb = os.path.join(tree, "debian")
        write(os.path.join(deb, "control"), CONTROL)
        write(os.path.join(deb, "rules"), "#!/usr/bin/make -f\n%:\n\tdh $@\n", 0o755)
        write(os.path.join(deb, "changelog"), changelog)
        write(os.path.join(deb, "copyright"), "Public domain test package.\n")
        write(os.path.join(deb, "source", "format"), "3.0 (quilt)\n")
        shutil.copy(tarball, os.path.dirname(tree))
        run(["dpkg-source", "-b", name], cwd=os.path.dirname(tree))
        for f in os.listdir(os.path.dirname(tree)):
            if f.startswith(f"hpup_{version}."):
                shutil.copy(os.path.join(os.path.dirname(tree), f), archive)
    return archive


def install(work, archive, sysroot, build_dir):
    """Build hpup 1.0-1 and install it into @sysroot with a dpkg database."""
    return debtiny.install(work, archive, sysroot, build_dir, name="hpup")
