# SPDX-License-Identifier: MIT
"""Two tiny Debian source packages for the catch-up test (tests/package):
a shared library in two versions, and a server that uses it.

hpcu 1.0-1 builds libhpcu1 (/usr/lib/x86_64-linux-gnu/libhpcu.so.1, whose
hpcu_check(N) answers N); hpcu 1.0-2 adds one Debian patch, a security fix:
hpcu_check() refuses values above 64 (CVE-2099-8001). hpcu-server 1.0, a
source package of its own as a program using a library is, builds
/usr/bin/hpcu-server ADDR PORT: a TCP server answering each line N with
hpcu_check(N) from libhpcu.so.1 (it links against a stub of the library,
not shipped, and depends on libhpcu1). All are real source packages
(dpkg-source -b), and their binary packages are built with
dpkg-buildpackage; hpcu's at the path `hotpatch build --upgrade-to`
rebuilds the twin in.
"""
import os
import shutil

from debtiny import dpkg_build, make_source_packages, run, write

LIB_C = r"""
static long checked;

__attribute__((noinline)) int hpcu_check(int n)
{
	checked++;
	return n < 0 ? -1 : n;
}

long hpcu_checked(void)
{
	return checked;
}
"""

SERVER_C = r"""
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int hpcu_check(int n);

int main(int argc, char **argv)
{
	struct sockaddr_in a = {.sin_family = AF_INET};
	int s = socket(AF_INET, SOCK_STREAM, 0), one = 1;

	if (argc < 3 || s < 0)
		return 1;
	a.sin_port = htons((unsigned short)atoi(argv[2]));
	inet_pton(AF_INET, argv[1], &a.sin_addr);
	setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(s, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(s, 64) < 0)
		return 1;
	printf("listening\n");
	fflush(stdout);
	for (;;) {
		char buf[64] = {0}, out[64];
		int c = accept(s, NULL, NULL);
		ssize_t n;

		if (c < 0)
			continue;
		n = read(c, buf, sizeof(buf) - 1);
		if (n > 0) {
			int len = snprintf(out, sizeof(out), "%d\n", hpcu_check(atoi(buf)));

			if (write(c, out, (size_t)len) < 0)
				perror("write");
		}
		close(c);
	}
}
"""

MAKEFILE = """
LIBDIR = /usr/lib/x86_64-linux-gnu
all: libhpcu.so.1
libhpcu.so.1: hpcu.c
\t$(CC) $(CPPFLAGS) $(CFLAGS) -fPIC -c -o hpcu.o hpcu.c
\t$(CC) $(CFLAGS) $(LDFLAGS) -shared -Wl,-soname,libhpcu.so.1 -o $@ hpcu.o
install:
\tinstall -D -m 644 libhpcu.so.1 $(DESTDIR)$(LIBDIR)/libhpcu.so.1
clean:
\trm -f libhpcu.so* *.o
"""

STUB_C = "int hpcu_check(int n) { return n; }\n"

SERVER_MAKEFILE = """
all: hpcu-server
libhpcu.so: stub.c
\t$(CC) -fPIC -shared -Wl,-soname,libhpcu.so.1 -o $@ stub.c
hpcu-server: server.c libhpcu.so
\t$(CC) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ server.c -L. -lhpcu
install:
\tinstall -D -m 755 hpcu-server $(DESTDIR)/usr/bin/hpcu-server
clean:
\trm -f libhpcu.so hpcu-server
"""

SERVER_CONTROL = """Source: hpcu-server
Section: net
Priority: optional
Maintainer: Hotpatch Tests <tests@example.org>
Build-Depends: debhelper-compat (= 13)
Standards-Version: 4.6.2
Rules-Requires-Root: no

Package: hpcu-server
Architecture: any
Depends: libhpcu1, ${misc:Depends}
Description: tiny server for hotpatch's catch-up test
 Answers hpcu_check(N) over TCP.
"""

SERVER_RULES = """#!/usr/bin/make -f
%:
\tdh $@

# Linked against a stub of libhpcu (not shipped): the dependency is named
# in debian/control.
override_dh_shlibdeps:
"""

SERVER_CHANGELOG = """hpcu-server (1.0) bookworm; urgency=medium

  * Initial release.

 -- Hotpatch Tests <tests@example.org>  Mon, 02 Jan 2023 10:00:00 +0000
"""

CONTROL = """Source: hpcu
Section: libs
Priority: optional
Maintainer: Hotpatch Tests <tests@example.org>
Build-Depends: debhelper-compat (= 13)
Standards-Version: 4.6.2
Rules-Requires-Root: no

Package: libhpcu1
Architecture: any
Multi-Arch: same
Depends: ${shlibs:Depends}, ${misc:Depends}
Description: tiny library for hotpatch's catch-up test
 hpcu_check(N).
"""

RULES = """#!/usr/bin/make -f
%:
\tdh $@
"""

FIX = """Description: hpcu_check: refuse values above 64
 A value above 64 overflows the caller's buffer.
Author: Hotpatch Tests <tests@example.org>
CVE: CVE-2099-8001
--- a/hpcu.c
+++ b/hpcu.c
@@ -4,7 +4,7 @@
 __attribute__((noinline)) int hpcu_check(int n)
 {
 	checked++;
-	return n < 0 ? -1 : n;
+	return n < 0 || n > 64 ? -1 : n;
 }
 
 long hpcu_checked(void)
"""

CHANGELOG_OLD = """hpcu (1.0-1) bookworm; urgency=medium

  * Initial release.

 -- Hotpatch Tests <tests@example.org>  Mon, 02 Jan 2023 10:00:00 +0000
"""

CHANGELOG_NEW = """hpcu (1.0-2) bookworm-security; urgency=high

  * 0001-check-range.patch: refuse values above 64 (CVE-2099-8001).

 -- Hotpatch Tests <tests@example.org>  Tue, 03 Jan 2023 10:00:00 +0000

""" + CHANGELOG_OLD

LIB = "/usr/lib/x86_64-linux-gnu/libhpcu.so.1"
PACKAGES = ("libhpcu1",)


def make_sources(work):
    """Source packages hpcu 1.0-1 and 1.0-2 in work/archive (.dsc)."""
    return make_source_packages(
        work, "hpcu", {"hpcu.c": LIB_C, "Makefile": MAKEFILE},
        (("1.0-1", CHANGELOG_OLD, {}), ("1.0-2", CHANGELOG_NEW, {"0001-check-range.patch": FIX})),
        {"control": (CONTROL, 0o644), "rules": (RULES, 0o755)})


def build_binary(archive, version, build_dir, out):
    """dpkg-buildpackage of hpcu @version at @build_dir; the binary packages
    are moved to @out. Returns {package: .deb path}."""
    dpkg_build(archive, "hpcu", version, build_dir)
    debs = {}
    for p in PACKAGES:
        name = f"{p}_{version}_amd64.deb"
        shutil.move(os.path.join(os.path.dirname(build_dir), name), os.path.join(out, name))
        debs[p] = os.path.join(out, name)
    return debs


def install_sysroot(debs, sysroot):
    """Unpacks @debs into @sysroot with a dpkg database that lists them (for
    `hotpatch build --sysroot`: it reads dpkg's files directly)."""
    info = os.path.join(sysroot, "var/lib/dpkg/info")
    os.makedirs(info, exist_ok=True)
    status = ""
    for package, deb in debs.items():
        run(["dpkg-deb", "-x", deb, sysroot])
        listing = run(["dpkg-deb", "-c", deb]).stdout.splitlines()
        paths = [l.split(" -> ")[0].split()[-1].lstrip(".") for l in listing]
        write(os.path.join(info, f"{package}.list"),
              "".join(p.rstrip("/") + "\n" for p in paths if p))
        version = run(["dpkg-deb", "-f", deb, "Version"]).stdout.strip()
        status += (f"Package: {package}\nStatus: install ok installed\nPriority: optional\n"
                   f"Architecture: amd64\nSource: hpcu\nVersion: {version}\n"
                   f"Description: test\n\n")
    write(os.path.join(sysroot, "var/lib/dpkg/status"), status)


def build_server(work, out):
    """hpcu-server 1.0 (native)'s binary package, in @out."""
    tree = os.path.join(work, "server", "hpcu-server-1.0")
    write(os.path.join(tree, "server.c"), SERVER_C)
    write(os.path.join(tree, "stub.c"), STUB_C)
    write(os.path.join(tree, "Makefile"), SERVER_MAKEFILE)
    deb = os.path.join(tree, "debian")
    write(os.path.join(deb, "control"), SERVER_CONTROL)
    write(os.path.join(deb, "rules"), SERVER_RULES, 0o755)
    write(os.path.join(deb, "changelog"), SERVER_CHANGELOG)
    write(os.path.join(deb, "copyright"), "Public domain test package.\n")
    write(os.path.join(deb, "source", "format"), "3.0 (native)\n")
    run(["dpkg-buildpackage", "-B", "-uc", "-us"], cwd=tree,
        env={"DEB_BUILD_OPTIONS": "nocheck", "LC_ALL": "C.UTF-8"})
    name = "hpcu-server_1.0_amd64.deb"
    shutil.move(os.path.join(os.path.dirname(tree), name), os.path.join(out, name))
    return os.path.join(out, name)
