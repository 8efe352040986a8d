# SPDX-License-Identifier: MIT
"""A tiny Debian source package whose layout has the three traps of issue 21.

hpvend 5:1.0-1 (an epoch) builds one program, shipped as /usr/bin/hpvend-tool
by the binary package hpvend-tools, while the binary package hpvend ships
only the link /usr/bin/hpvend -> hpvend-tool (the path users run). The
program is linked from its own util.c and from a vendored deps/lib/util.c:
two objects whose STT_FILE is the same base name. 5:1.0-2 adds one Debian
patch that fixes check_len() in the program's own util.c (CVE-2099-1111).
"""
import os
import shutil

from debtiny import dpkg_build, make_source_packages, run, write

TOOL_C = r"""
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int check_len(int n);
int vend_len(int n);

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
		char buf[64] = {0}, out[64];
		int c = accept(s, NULL, NULL);
		ssize_t n;

		if (c < 0)
			continue;
		n = read(c, buf, sizeof(buf) - 1);
		if (n > 0) {
			int len = snprintf(out, sizeof(out), "%d %d\n", check_len(atoi(buf)),
					   vend_len(atoi(buf)));
			if (write(c, out, (size_t)len) < 0)
				perror("write");
		}
		close(c);
	}
}
"""

UTIL_C = r"""
static int limit(void)
{
	return 1000;
}

__attribute__((noinline)) int check_len(int n)
{
	return n < 0 ? -1 : n > limit() ? -2 : n;
}
"""

VENDORED_UTIL_C = r"""
static int limit(void)
{
	return 5000;
}

__attribute__((noinline)) int vend_len(int n)
{
	return n > limit() ? 0 : n;
}
"""

FIX = """Description: check_len: refuse lengths above 64
CVE: CVE-2099-1111
--- a/util.c
+++ b/util.c
@@ -6,5 +6,5 @@
 
 __attribute__((noinline)) int check_len(int n)
 {
-	return n < 0 ? -1 : n > limit() ? -2 : n;
+	return n < 0 || n > 64 ? -1 : n > limit() ? -2 : n;
 }
"""

MAKEFILE = """
all: hpvend-tool
%.o: %.c
\t$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<
hpvend-tool: tool.o util.o deps/lib/util.o
\t$(CC) $(CFLAGS) $(LDFLAGS) -o $@ deps/lib/util.o tool.o util.o
install:
\tinstall -D -m 755 hpvend-tool $(DESTDIR)/usr/bin/hpvend-tool
clean:
\trm -f hpvend-tool *.o deps/lib/*.o
"""

CONTROL = """Source: hpvend
Section: utils
Priority: optional
Maintainer: Hotpatch Tests <tests@example.org>
Build-Depends: debhelper-compat (= 13)
Standards-Version: 4.6.2
Rules-Requires-Root: no

Package: hpvend-tools
Architecture: any
Depends: ${shlibs:Depends}, ${misc:Depends}
Description: the program of hpvend
 The real file.

Package: hpvend
Architecture: any
Depends: hpvend-tools (= ${binary:Version}), ${misc:Depends}
Description: hpvend's command
 A link to the program of hpvend-tools.
"""

CHANGELOG_OLD = """hpvend (5:1.0-1) bookworm; urgency=medium

  * Initial release.

 -- Hotpatch Tests <tests@example.org>  Mon, 02 Jan 2023 10:00:00 +0000
"""

CHANGELOG_NEW = """hpvend (5:1.0-2) bookworm-security; urgency=high

  * 0001-check-len.patch: refuse lengths above 64 (CVE-2099-1111).

 -- Hotpatch Tests <tests@example.org>  Tue, 03 Jan 2023 10:00:00 +0000

""" + CHANGELOG_OLD


def make_sources(work):
    """Source packages hpvend 5:1.0-1 and 5:1.0-2 in work/archive (.dsc)."""
    return make_source_packages(
        work, "hpvend", {"tool.c": TOOL_C, "util.c": UTIL_C, "deps/lib/util.c": VENDORED_UTIL_C,
                         "Makefile": MAKEFILE},
        (("1.0-1", CHANGELOG_OLD, {}), ("1.0-2", CHANGELOG_NEW, {"0001-check-len.patch": FIX})),
        {"control": (CONTROL, 0o644), "rules": ("#!/usr/bin/make -f\n%:\n\tdh $@\n", 0o755),
         "hpvend-tools.install": ("usr/bin/hpvend-tool\n", 0o644),
         "hpvend.links": ("usr/bin/hpvend-tool usr/bin/hpvend\n", 0o644)})


def build_binary(archive, version, build_dir):
    """dpkg-buildpackage of hpvend @version (without its epoch) at @build_dir;
    returns {package: .deb path} (dpkg-buildpackage drops the epoch)."""
    dpkg_build(archive, "hpvend", version, build_dir)
    out = os.path.dirname(build_dir)
    return {p: os.path.join(out, f"{p}_{version}_amd64.deb") for p in ("hpvend", "hpvend-tools")}


def publish_as_apt_saves(archive, build_dir):
    """Debian's hpvend-tools 5:1.0-2, under the name apt-get download saves
    it with: hpvend-tools_5%3a1.0-2_amd64.deb."""
    debs = build_binary(archive, "1.0-2", build_dir)
    dest = os.path.join(archive, "hpvend-tools_5%3a1.0-2_amd64.deb")
    shutil.copy(debs["hpvend-tools"], dest)
    for deb in debs.values():
        os.unlink(deb)
    return dest


def install(work, archive, sysroot, build_dir):
    """Build hpvend 5:1.0-1 and install both binary packages into @sysroot."""
    debs = build_binary(archive, "1.0-1", build_dir)
    info = os.path.join(sysroot, "var/lib/dpkg/info")
    os.makedirs(info, exist_ok=True)
    status = ""
    for package, deb in debs.items():
        run(["dpkg-deb", "-x", deb, sysroot])
        listing = run(["dpkg-deb", "-c", deb]).stdout.splitlines()
        # "lrwxrwxrwx ... ./usr/bin/hpvend -> hpvend-tool": the path is before the arrow
        paths = [l.split(" -> ")[0].split()[-1].lstrip(".") for l in listing]
        write(os.path.join(info, f"{package}.list"),
              "".join(p.rstrip("/") + "\n" for p in paths if p))
        status += (f"Package: {package}\nStatus: install ok installed\nPriority: optional\n"
                   f"Architecture: amd64\nSource: hpvend\nVersion: 5:1.0-1\n"
                   f"Description: test\n\n")
        os.unlink(deb)
    write(os.path.join(sysroot, "var/lib/dpkg/status"), status)
    return os.path.join(sysroot, "usr/bin/hpvend")
