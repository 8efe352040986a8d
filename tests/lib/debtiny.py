# SPDX-License-Identifier: MIT
"""A tiny Debian source package, in two versions, for the --upgrade-to tests.

hptiny 1.0-1 ships /usr/bin/hptiny, a server on a UNIX socket that answers
each line N with check_len(N), and /usr/bin/hptiny-other. hptiny 1.0-2 adds
three Debian patches: one fixes check_len() (CVE-2099-1234), one fixes
hptiny-other only (CVE-2099-5678), so for /usr/bin/hptiny it is "not in this
file", and one changes the layout of a struct that live data uses
(CVE-2099-4321), which cannot be patched live. The sources are real source packages (dpkg-source -b), and the
installed version is built with dpkg-buildpackage and unpacked into a system
root with a dpkg database, the way the package manager would leave it.
"""
import os
import shutil
import subprocess

TINY_C = r"""
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static long served;

__attribute__((noinline)) int check_len(int n)
{
	served++;
	return n < 0 ? -1 : n;
}

int main(int argc, char **argv)
{
	extern int count_hit(void);
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
			int v = check_len(atoi(buf));

			count_hit();
			int len = snprintf(out, sizeof(out), "%d %ld\n", v, served);
			if (write(c, out, (size_t)len) < 0)
				perror("write");
		}
		close(c);
	}
}
"""

STATS_C = r"""
struct counter {
	int hits;
};

static struct counter counter;

__attribute__((noinline)) int count_hit(void)
{
	return ++counter.hits;
}
"""

OTHER_C = r"""
#include <stdio.h>
#include <stdlib.h>

__attribute__((noinline)) int other_len(int n)
{
	return n;
}

int main(int argc, char **argv)
{
	printf("%d\n", other_len(argc > 1 ? atoi(argv[1]) : 0));
	return 0;
}
"""

MAKEFILE = """
all: hptiny hptiny-other
%.o: %.c
\t$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<
hptiny: tiny.o stats.o
\t$(CC) $(CFLAGS) $(LDFLAGS) -o $@ tiny.o stats.o
hptiny-other: other.o
\t$(CC) $(CFLAGS) $(LDFLAGS) -o $@ other.o
install:
\tinstall -D -m 755 hptiny $(DESTDIR)/usr/bin/hptiny
\tinstall -D -m 755 hptiny-other $(DESTDIR)/usr/bin/hptiny-other
clean:
\trm -f hptiny hptiny-other *.o
"""

CONTROL = """Source: hptiny
Section: utils
Priority: optional
Maintainer: Hotpatch Tests <tests@example.org>
Build-Depends: debhelper-compat (= 13)
Standards-Version: 4.6.2
Rules-Requires-Root: no

Package: hptiny
Architecture: any
Depends: ${shlibs:Depends}, ${misc:Depends}
Description: tiny server for hotpatch's upgrade tests
 Answers check_len(N) on a UNIX socket.
"""

FIX_OWN = """Description: check_len: refuse lengths above 64
 A length above 64 overflows the caller's buffer.
Author: Hotpatch Tests <tests@example.org>
CVE: CVE-2099-1234
--- a/tiny.c
+++ b/tiny.c
@@ -11,7 +11,7 @@
 __attribute__((noinline)) int check_len(int n)
 {
 	served++;
-	return n < 0 ? -1 : n;
+	return n < 0 || n > 64 ? -1 : n;
 }
 
 int main(int argc, char **argv)
"""

FIX_LAYOUT = """Description: counter: count misses too
 Changes the layout of struct counter, which live data uses: cannot be
 patched live.
CVE: CVE-2099-4321
--- a/stats.c
+++ b/stats.c
@@ -1,6 +1,7 @@
 
 struct counter {
 	int hits;
+	int misses;
 };
 
 static struct counter counter;
"""

FIX_OTHER = """Description: other_len: refuse negative lengths
--- a/other.c
+++ b/other.c
@@ -4,7 +4,7 @@
 
 __attribute__((noinline)) int other_len(int n)
 {
-	return n;
+	return n < 0 ? 0 : n;
 }
 
 int main(int argc, char **argv)
"""

CHANGELOG_OLD = """hptiny (1.0-1) bookworm; urgency=medium

  * Initial release.

 -- Hotpatch Tests <tests@example.org>  Mon, 02 Jan 2023 10:00:00 +0000
"""

CHANGELOG_NEW = """hptiny (1.0-2) bookworm-security; urgency=high

  * 0001-check-len.patch: refuse lengths above 64 (CVE-2099-1234).
  * 0002-other-len.patch: fix hptiny-other (CVE-2099-5678).

 -- Hotpatch Tests <tests@example.org>  Tue, 03 Jan 2023 10:00:00 +0000

""" + CHANGELOG_OLD


def run(cmd, cwd=None, env=None):
    e = dict(os.environ)
    e.update(env or {})
    r = subprocess.run(cmd, cwd=cwd, env=e, capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{r.stdout}{r.stderr}")
    return r


def write(path, text, mode=0o644):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, mode)


def make_source_packages(work, source, upstream, versions, debian):
    """Source packages of @source (upstream 1.0) in work/archive (.dsc): the
    upstream files @upstream ({name: text}) and, for each (version,
    changelog, patches) of @versions, a debian/ of @debian ({name: (text,
    mode)}), that changelog and those quilt patches ({name: text})."""
    archive = os.path.join(work, "archive")
    top = f"{source}-1.0"
    orig = f"{source}_1.0.orig.tar.gz"
    up = os.path.join(work, "up", top)
    for name, text in upstream.items():
        write(os.path.join(up, name), text)
    os.makedirs(archive)
    run(["tar", "-czf", os.path.join(archive, orig), "--mtime=2023-01-01",
         "--owner=0", "--group=0", top], cwd=os.path.dirname(up))
    for version, changelog, patches in versions:
        tree = os.path.join(work, "src-" + version, top)
        shutil.copytree(up, tree)
        deb = os.path.join(tree, "debian")
        for name, (text, mode) in debian.items():
            write(os.path.join(deb, name), text, mode)
        write(os.path.join(deb, "changelog"), changelog)
        write(os.path.join(deb, "copyright"), "Public domain test package.\n")
        write(os.path.join(deb, "source", "format"), "3.0 (quilt)\n")
        if patches:
            write(os.path.join(deb, "patches", "series"), "".join(p + "\n" for p in patches))
            for name, text in patches.items():
                write(os.path.join(deb, "patches", name), text)
        shutil.copy(os.path.join(archive, orig), os.path.dirname(tree))
        run(["dpkg-source", "-b", top], cwd=os.path.dirname(tree))
        for f in os.listdir(os.path.dirname(tree)):
            if f.startswith(f"{source}_{version}."):
                shutil.copy(os.path.join(os.path.dirname(tree), f), archive)
    return archive


def make_sources(work, changelog_new=CHANGELOG_NEW, patches_new=None, tiny_c=TINY_C):
    """Source packages hptiny 1.0-1 and 1.0-2 in work/archive (.dsc); 1.0-2
    with @patches_new ({name: text}, default: the three fixes above) and
    @changelog_new; @tiny_c: the server's source (a test that patches every
    process of its build gives it a build of its own)."""
    if patches_new is None:
        patches_new = {"0001-check-len.patch": FIX_OWN, "0002-other-len.patch": FIX_OTHER,
                       "0003-counter-misses.patch": FIX_LAYOUT}
    return make_source_packages(
        work, "hptiny", {"tiny.c": tiny_c, "other.c": OTHER_C, "stats.c": STATS_C,
                         "Makefile": MAKEFILE},
        (("1.0-1", CHANGELOG_OLD, {}), ("1.0-2", changelog_new, patches_new)),
        {"control": (CONTROL, 0o644), "rules": ("#!/usr/bin/make -f\n%:\n\tdh $@\n", 0o755)})


def dpkg_build(archive, source, version, build_dir, env=None):
    """dpkg-buildpackage -B of @source @version (without epoch) at
    @build_dir, which is removed after: the .debs are beside it."""
    shutil.rmtree(build_dir, ignore_errors=True)
    os.makedirs(os.path.dirname(build_dir), exist_ok=True)
    run(["dpkg-source", "-x", os.path.join(archive, f"{source}_{version}.dsc"), build_dir])
    run(["dpkg-buildpackage", "-B", "-uc", "-us"], cwd=build_dir,
        env={"DEB_BUILD_OPTIONS": "nocheck", "LC_ALL": "C.UTF-8", **(env or {})})
    shutil.rmtree(build_dir)


def build_binary(archive, version, build_dir, cflags=None, name="hptiny"):
    """dpkg-buildpackage of @name (hptiny) @version at @build_dir (the path the
    twin will be built in, as Debian's builders do); returns the .deb's path."""
    dpkg_build(archive, name, version, build_dir,
               {"DEB_CFLAGS_APPEND": cflags} if cflags else None)
    return os.path.join(os.path.dirname(build_dir), f"{name}_{version}_amd64.deb")


def publish(archive, version, build_dir, cflags=None):
    """Debian's binary package of @version, as the archive has it: built like
    install() builds, and put next to the source packages in @archive."""
    deb = build_binary(archive, version, build_dir, cflags)
    shutil.copy(deb, archive)
    os.unlink(deb)
    return os.path.join(archive, os.path.basename(deb))


def install(work, archive, sysroot, build_dir, cflags=None, name="hptiny"):
    """Build @name (hptiny) 1.0-1 and install its binary package into
    @sysroot: files, info/NAME.list and the status entry."""
    deb = build_binary(archive, "1.0-1", build_dir, cflags, name)
    run(["dpkg-deb", "-x", deb, sysroot])
    listing = run(["dpkg-deb", "-c", deb]).stdout.splitlines()
    info = os.path.join(sysroot, "var/lib/dpkg/info")
    os.makedirs(info, exist_ok=True)
    paths = [l.split()[-1].lstrip(".") for l in listing]
    write(os.path.join(info, f"{name}.list"), "".join(p.rstrip("/") + "\n" for p in paths if p))
    write(os.path.join(sysroot, "var/lib/dpkg/status"),
          f"Package: {name}\nStatus: install ok installed\nPriority: optional\n"
          "Architecture: amd64\nVersion: 1.0-1\nDescription: test\n\n")
    return os.path.join(sysroot, f"usr/bin/{name}")


def scene(work):
    """The usual setting of a test: the sources, 1.0-1 installed in
    <work>/sysroot, the archive's 1.0-2 .deb published, the build cache at
    <work>/cache. Returns (archive, cache, sysroot, twin_path, target, deb)."""
    archive = make_sources(work)
    cache = os.path.join(work, "cache")
    twin_path = os.path.join(cache, "build/reproducible-path/hptiny-1.0")
    sysroot = os.path.join(work, "sysroot")
    target = install(work, archive, sysroot, twin_path)
    return archive, cache, sysroot, twin_path, target, publish(archive, "1.0-2", twin_path)


def serve(env, target):
    """The installed hptiny, running (one of @env's processes) on a socket
    in env.dir. Returns (process, socket path)."""
    from hptest import wait_for
    sock = os.path.join(env.dir, "tiny.sock")
    log = open(os.path.join(env.dir, "tiny.log"), "w")
    p = subprocess.Popen([target, sock], stdin=subprocess.DEVNULL, stdout=log, stderr=log)
    env.procs.append(p)
    wait_for(lambda: os.path.exists(sock), what="hptiny listening")
    return p, sock
