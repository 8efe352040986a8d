/* SPDX-License-Identifier: MIT */
/*
 * hotpatch package: a signed bundle as a Debian package, so that a fleet
 * that already takes its updates through apt (and unattended-upgrades) takes
 * live patches the same way. The package carries the bundle as a plain file;
 * its maintainer scripts run this same CLI, so all checks (signature, trust,
 * exact target) happen on each host at install time, as for a bundle copied
 * by hand. The .deb itself is made by dpkg-deb, which every Debian host has.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <getopt.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "cli.h"
#include "error.h"
#include "fileio.h"
#include "hex.h"
#include "macro.h"

/* Where the bundle lives on the hosts: architecture-specific data. */
#define PKG_BUNDLE_DIR "usr/lib/hotpatch/bundles"

extern char **environ;

struct pkg {
	const struct bundle *b;
	char name[256];    /* the Debian package name */
	char version[32];  /* from the bundle's creation time */
	char stage[4096];  /* the package tree being built */
};

/* Debian package names are [a-z0-9+.-]; a patch name may be anything. */
static void pkg_name(const struct manifest *m, const char *id, char *out, size_t len)
{
	char clean[128];
	size_t n = 0;

	for (const char *s = m->name ? m->name : ""; *s && n < sizeof(clean) - 1; s++) {
		char c = (*s >= 'A' && *s <= 'Z') ? (char)(*s - 'A' + 'a') : *s;

		clean[n++] = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
					     c == '.'
				     ? c
				     : '-';
	}
	clean[n] = '\0';
	snprintf(out, len, "hotpatch-patch-%s%s%s", clean, n ? "-" : "", id);
}

/* A later build of a fix gets a later version, whatever its id. */
static void pkg_version(uint64_t created, char *out, size_t len)
{
	time_t t = (time_t)created;
	struct tm tm;

	if (!created || !gmtime_r(&t, &tm) || !strftime(out, len, "%Y%m%d.%H%M%S", &tm))
		snprintf(out, len, "0");
}

/* One line of free text for a control field: no newlines, no control bytes. */
static void add_oneline(struct buf *o, const char *s)
{
	for (; s && *s; s++) {
		char c = (unsigned char)*s < 0x20 || *s == 0x7f ? ' ' : *s;

		buf_put(o, &c, 1);
	}
}

/* Who made the package: $DEBFULLNAME and $DEBEMAIL, as Debian's own tools
 * take them, or the local root. */
static void maintainer(struct buf *o)
{
	const char *name = getenv("DEBFULLNAME"), *mail = getenv("DEBEMAIL");

	buf_printf(o, "Maintainer: ");
	if (mail && strchr(mail, '<')) {
		add_oneline(o, mail);
	} else {
		add_oneline(o, name && *name ? name : "hotpatch package");
		buf_printf(o, " <");
		add_oneline(o, mail && *mail ? mail : "root@localhost");
		buf_printf(o, ">");
	}
	buf_printf(o, "\n");
}

static void control_text(const struct pkg *p, struct buf *o)
{
	const struct manifest *m = &p->b->manifest;
	char bid[2 * sizeof(m->build_id) + 1];

	hex_encode(m->build_id, m->build_id_len, bid);
	buf_printf(o, "Package: %s\nVersion: %s\nArchitecture: amd64\n", p->name, p->version);
	maintainer(o);
	buf_printf(o, "Section: admin\nPriority: optional\nDepends: hotpatch\n"
		      "Installed-Size: %zu\n",
		   (p->b->size + 1023) / 1024);
	buf_printf(o, "Description: live patch %s for %s\n ", p->b->id, m->target_path);
	add_oneline(o, m->description && *m->description ? m->description : m->name);
	buf_printf(o, "\n .\n Installing this package applies the fix to every running process\n"
		      " that maps %s\n with build-id %s,\n and keeps it applied with hotpatchd; "
		      "removing it reverts the fix.\n",
		   m->target_path, bid);
	if (m->ncves) {
		buf_printf(o, " Fixes:");
		for (size_t i = 0; i < m->ncves; i++) {
			buf_printf(o, " ");
			add_oneline(o, m->cves[i]);
		}
		buf_printf(o, ".\n");
	}
	buf_printf(o, " Signed by key %s.\n", p->b->signer);
}

/*
 * The scripts run on each host. HOTPATCH_ROOT (or dpkg's DPKG_ROOT, set by
 * `dpkg --root`) keeps hotpatch's files in another tree, for tests and image
 * builds. enable exits 1 when some process could not be patched yet: the
 * daemon keeps trying, so that is not a failed install; 2 (refused: an
 * untrusted key, say) is.
 */
static const char script_head[] =
	"#!/bin/sh\n"
	"# Made by `hotpatch package`: live patch %s (%s).\n"
	"set -e\n"
	"PATH=$PATH:/usr/sbin:/sbin\n"
	"id=%s\n"
	"bundle=\"${DPKG_ROOT:-}/" PKG_BUNDLE_DIR "/%s.hpb\"\n"
	"if [ -z \"${HOTPATCH_ROOT:-}\" ] && [ -n \"${DPKG_ROOT:-}\" ]; then\n"
	"\tHOTPATCH_ROOT=$DPKG_ROOT\n"
	"\texport HOTPATCH_ROOT\n"
	"fi\n";

static const char postinst_body[] =
	"case \"$1\" in\n"
	"configure|abort-remove|abort-deconfigure|abort-upgrade)\n"
	"\thotpatch install \"$bundle\"\n"
	"\trc=0\n"
	"\thotpatch enable \"$id\" || rc=$?\n"
	"\tif [ \"$rc\" -eq 1 ]; then\n"
	"\t\techo \"$DPKG_MAINTSCRIPT_PACKAGE: patch $id is not applied to every process\" \\\n"
	"\t\t\t\"yet; hotpatchd retries, see 'hotpatch status'\" >&2\n"
	"\telif [ \"$rc\" -ne 0 ]; then\n"
	"\t\texit \"$rc\"\n"
	"\tfi\n"
	"\t;;\n"
	"esac\n"
	"exit 0\n";

/* The daemon reverts asynchronously, and remove is refused while any
 * process still carries the patch: wait for it, within reason. A patch that
 * cannot come out fails the removal, and dpkg keeps the package. */
static const char prerm_body[] =
	"case \"$1\" in\n"
	"remove|deconfigure)\n"
	"\t# Already removed from the store by hand: nothing left to undo.\n"
	"\tif [ ! -e \"${HOTPATCH_ROOT:-}/var/lib/hotpatch/bundles/$id.hpb\" ]; then\n"
	"\t\texit 0\n"
	"\tfi\n"
	"\thotpatch disable \"$id\"\n"
	"\ttries=0\n"
	"\tuntil hotpatch remove \"$id\"; do\n"
	"\t\ttries=$((tries + 1))\n"
	"\t\tif [ \"$tries\" -ge 30 ]; then\n"
	"\t\t\texit 1\n"
	"\t\tfi\n"
	"\t\tsleep 1\n"
	"\tdone\n"
	"\t;;\n"
	"esac\n"
	"exit 0\n";

static int write_script(const struct pkg *p, const char *name, const char *body)
{
	const struct manifest *m = &p->b->manifest;
	struct buf o = {0};
	char path[4200];
	int r;

	buf_printf(&o, script_head, p->b->id, m->name, p->b->id, p->b->id);
	buf_printf(&o, "%s", body);
	snprintf(path, sizeof(path), "%s/DEBIAN/%s", p->stage, name);
	r = file_write_atomic(path, o.data, o.len, 0755);
	buf_free(&o);
	return r;
}

static int write_tree(const struct pkg *p)
{
	struct buf ctl = {0};
	char path[4200];
	int r;

	snprintf(path, sizeof(path), "%s/DEBIAN", p->stage);
	/* dpkg-deb wants 0755 here, whatever our umask. */
	if (mkdir(path, 0755) < 0 || chmod(path, 0755) < 0)
		return hp_err(-errno, "cannot create %s: %m", path);
	control_text(p, &ctl);
	snprintf(path, sizeof(path), "%s/DEBIAN/control", p->stage);
	r = file_write_atomic(path, ctl.data, ctl.len, 0644);
	buf_free(&ctl);
	if (r == 0)
		r = write_script(p, "postinst", postinst_body);
	if (r == 0)
		r = write_script(p, "prerm", prerm_body);
	if (r < 0)
		return r;
	snprintf(path, sizeof(path), "%s/" PKG_BUNDLE_DIR, p->stage);
	r = mkdir_p(path, 0755);
	if (r < 0)
		return r;
	snprintf(path, sizeof(path), "%s/" PKG_BUNDLE_DIR "/%s.hpb", p->stage, p->b->id);
	return file_write_atomic(path, p->b->data, p->b->size, 0644);
}

/* dpkg-deb, its standard output (a "building package" line) discarded. */
static int run_dpkg_deb(const char *stage, const char *out)
{
	char *argv[] = {"dpkg-deb", "--root-owner-group", "--build", (char *)stage, (char *)out,
			NULL};
	posix_spawn_file_actions_t fa;
	pid_t pid;
	int r, status;

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
	r = posix_spawnp(&pid, "dpkg-deb", &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (r)
		return hp_err(-r, "cannot run dpkg-deb: %s (it is in the dpkg package)",
			      strerror(r));
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return hp_err(-errno, "waiting for dpkg-deb: %m");
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		return hp_err(-EIO, "dpkg-deb failed to build %s (its message is above)", out);
	return 0;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

/* Builds the package in @dir; its path in @ret_out. */
static int package(const struct bundle *b, const char *dir, char *ret_out, size_t len)
{
	struct pkg p = {.b = b};
	char tmp[4200];
	int r;

	pkg_name(&b->manifest, b->id, p.name, sizeof(p.name));
	pkg_version(b->manifest.created, p.version, sizeof(p.version));
	/* Staged beside the output, so the final rename never crosses a file
	 * system and a reader never sees half a .deb. */
	snprintf(p.stage, sizeof(p.stage), "%s/.hotpatch-package.XXXXXX", dir);
	if (!mkdtemp(p.stage))
		return hp_err(-errno, "cannot create a work directory in %s: %m", dir);
	/* The tree's top is the hosts' "/": mkdtemp made it 0700. */
	chmod(p.stage, 0755);
	snprintf(tmp, sizeof(tmp), "%s.deb", p.stage);
	snprintf(ret_out, len, "%s/%s_%s_amd64.deb", dir, p.name, p.version);
	r = write_tree(&p);
	if (r == 0)
		r = run_dpkg_deb(p.stage, tmp);
	if (r == 0 && rename(tmp, ret_out) < 0)
		r = hp_err(-errno, "cannot create %s: %m", ret_out);
	nftw(p.stage, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	unlink(tmp);
	return r;
}

static int usage(int status)
{
	printf("Usage: hotpatch package BUNDLE [-o DIR]\n\n"
	       "Wrap a signed bundle in a Debian package, hotpatch-patch-NAME-ID, in DIR\n"
	       "(default: the current directory). Installing the package installs the\n"
	       "bundle into the store and enables it (hotpatchd keeps it applied);\n"
	       "removing the package disables it, reverts it everywhere and removes it.\n"
	       "The bundle must verify against trusted.d here, as it will on the hosts.\n");
	return status;
}

int cmd_package(int argc, char **argv)
{
	static const struct option opts[] = {
		{"output", required_argument, NULL, 'o'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	struct bundle *b = NULL;
	const char *dir = ".";
	char out[4096];
	int c, r;

	while ((c = getopt_long(argc, argv, "ho:", opts, NULL)) != -1) {
		if (c == 'o')
			dir = optarg;
		else
			return usage(c == 'h' ? EXIT_OK : EXIT_REFUSED);
	}
	if (optind + 1 != argc)
		return cli_usage("package needs exactly one bundle");
	/* Never unsigned: every host would refuse it at install time. */
	r = cli_load_bundle(argv[optind], false, &b);
	if (r == 0)
		r = package(b, dir, out, sizeof(out));
	if (r < 0) {
		bundle_free(b);
		return cli_refuse(r);
	}
	printf("packaged %s (%s) as %s\n", b->id, b->manifest.name, out);
	bundle_free(b);
	return EXIT_OK;
}
