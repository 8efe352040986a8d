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
#include "nofix.h"

/* Where the bundle lives on the hosts: architecture-specific data. */
#define PKG_BUNDLE_DIR "usr/lib/hotpatch/bundles"
/* A subscription's marker (--subscribe). */
#define PKG_SUBSCRIPTION_DIR "usr/share/hotpatch/subscriptions"
/* What each package put in place last (its patch id and target build). */
#define PKG_STATE_DIR "var/lib/hotpatch/packages"

extern char **environ;

struct pkg {
	const struct bundle *b; /* NULL: a subscription (--subscribe) or a no-fix record */
	const struct nofix *nf; /* --no-fix: the build host's "nothing to patch" */
	const uint8_t *nf_data; /* the record as given */
	size_t nf_len;
	const char *maintainer; /* --maintainer, or NULL */
	char name[256];    /* the Debian package name */
	char build_id[2 * 64 + 1]; /* the target build the bundle is for */
	char contact[512]; /* NAME <MAIL> */
	char version[32];  /* from the bundle's creation time */
	char stage[4096];  /* the package tree being built */
};

struct pkg_opts {
	const char *dir;
	const char *subscribe;  /* --subscribe NAME */
	const char *no_fix;     /* --no-fix RECORD */
	const char *name;       /* --name */
	const char *maintainer; /* --maintainer */
};

/* Debian package names are [a-z0-9+.-], starting with a letter or digit; a
 * patch name may be anything. The name is stable across rebuilds of a fix
 * (the patch's name, not its id), so that a rebuilt fix upgrades the
 * package that carried the last one, as kpatch-patch-* packages do. */
static int pkg_name(const char *want, char *out, size_t len)
{
	char clean[128];
	size_t n = 0;

	for (const char *s = want ? want : ""; *s && n < sizeof(clean) - 1; s++) {
		char c = (*s >= 'A' && *s <= 'Z') ? (char)(*s - 'A' + 'a') : *s;
		bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '.';

		if (!ok)
			c = '-';
		if (c == '-' && (n == 0 || clean[n - 1] == '-'))
			continue; /* no leading or doubled dashes */
		clean[n++] = c;
	}
	while (n && !((clean[n - 1] >= 'a' && clean[n - 1] <= 'z') ||
		      (clean[n - 1] >= '0' && clean[n - 1] <= '9')))
		n--;
	clean[n] = '\0';
	if (!n)
		return hp_err(-EINVAL, "the patch has no name to make a package name of; give one "
				       "with --name NAME");
	snprintf(out, len, "hotpatch-patch-%s", clean);
	return 0;
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

/* Who made the package: --maintainer, else $DEBFULLNAME and $DEBEMAIL, as
 * Debian's own tools take them. Debian refuses root and localhost as a
 * contact (lintian: root-in-contact, bogus-mail-host), so there is no made-up
 * default: the people who publish a fix say who they are. */
static int maintainer(const char *given, struct buf *o)
{
	const char *name = getenv("DEBFULLNAME"), *mail = getenv("DEBEMAIL");

	if (given) {
		add_oneline(o, given);
	} else if (mail && strchr(mail, '<')) {
		add_oneline(o, mail);
	} else if (mail && *mail) {
		add_oneline(o, name && *name ? name : "hotpatch live patches");
		buf_printf(o, " <");
		add_oneline(o, mail);
		buf_printf(o, ">");
	} else {
		return hp_err(-EINVAL, "who publishes this package? Give --maintainer \"NAME <MAIL>\" "
				       "or set DEBEMAIL (and DEBFULLNAME)");
	}
	buf_put(o, "", 1);
	return 0;
}

/* Version 0 of hotpatch-patch-NAME, with no patch: a host that installs it
 * once gets every live patch published under that name as an upgrade of
 * it, with the apt upgrade (or unattended-upgrades run) that brings the
 * package upgrade the patch catches running processes up with: apt upgrade
 * never installs a package a host does not have. */
static void subscription_control(const struct pkg *p, const char *name, struct buf *o)
{
	buf_printf(o, "Package: %s\nVersion: %s\nArchitecture: amd64\nMaintainer: %s\n", p->name,
		   p->version, p->contact);
	buf_printf(o, "Section: admin\nPriority: optional\nDepends: hotpatch\n"
		      "Description: live patches for %s (subscription)\n"
		      " Installing this package subscribes this host to the live patches\n"
		      " published as %s: each one arrives as an upgrade of this\n"
		      " package, with the apt upgrade that brings the fix it carries, and\n"
		      " catches the running processes up (hotpatch catch-up).\n",
		   name, p->name);
}

/* A no-fix record's package: the verdict that an upgrade needs nothing live
 * for one build, so the hosts' catch-up says so instead of "bundle
 * missing". Published under the name the live patches for that package
 * have, it upgrades a subscription like a patch does. */
static void nofix_control(const struct pkg *p, struct buf *o)
{
	const struct nofix *n = p->nf;

	buf_printf(o, "Package: %s\nVersion: %s\nArchitecture: amd64\nMaintainer: %s\n", p->name,
		   p->version, p->contact);
	buf_printf(o, "Section: admin\nPriority: optional\nDepends: hotpatch\nDescription: no "
		      "live patch needed for ");
	add_oneline(o, n->package);
	buf_printf(o, " ");
	add_oneline(o, n->from);
	buf_printf(o, "\n The fixes between ");
	add_oneline(o, n->from);
	buf_printf(o, " and ");
	add_oneline(o, n->to);
	buf_printf(o, " change no code of ");
	add_oneline(o, n->target);
	buf_printf(o, "\n (build-id %s): a process running it needs neither a live patch nor\n"
		      " a restart for them, and hotpatch catch-up says so.\n",
		   n->build_id);
}

static void control_text(const struct pkg *p, struct buf *o)
{
	const struct manifest *m = &p->b->manifest;
	char bid[2 * sizeof(m->build_id) + 1];

	hex_encode(m->build_id, m->build_id_len, bid);
	buf_printf(o, "Package: %s\nVersion: %s\nArchitecture: amd64\nMaintainer: %s\n", p->name,
		   p->version, p->contact);
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
	"target=%s\n"
	"bundle=\"${DPKG_ROOT:-}/" PKG_BUNDLE_DIR "/%s.hpb\"\n"
	"if [ -z \"${HOTPATCH_ROOT:-}\" ] && [ -n \"${DPKG_ROOT:-}\" ]; then\n"
	"\tHOTPATCH_ROOT=$DPKG_ROOT\n"
	"\texport HOTPATCH_ROOT\n"
	"fi\n"
	"# Which patch this package put in place last, and for which build.\n"
	"state=\"${HOTPATCH_ROOT:-}/" PKG_STATE_DIR "/%s\"\n";

/* An upgrade (a rebuilt fix) supersedes the previous patch in one flip per
 * process (apply --replace), so no process is ever without a fix; then the
 * previous one is disabled and removed. Only when it was for the same build:
 * a previous patch for another build still serves the processes of that
 * build, and stays. */
static const char postinst_body[] =
	"remove_old() {\n"
	"\thotpatch disable \"$1\" >/dev/null || true\n"
	"\ttries=0\n"
	"\tuntil hotpatch remove \"$1\" >/dev/null 2>&1; do\n"
	"\t\ttries=$((tries + 1))\n"
	"\t\tif [ \"$tries\" -ge 30 ]; then\n"
	"\t\t\techo \"$DPKG_MAINTSCRIPT_PACKAGE: the previous patch $1 is still applied\" \\\n"
	"\t\t\t\t\"somewhere; see 'hotpatch status'\" >&2\n"
	"\t\t\treturn 0\n"
	"\t\tfi\n"
	"\t\tsleep 1\n"
	"\tdone\n"
	"}\n"
	"case \"$1\" in\n"
	"configure|abort-remove|abort-deconfigure|abort-upgrade)\n"
	"\thotpatch install \"$bundle\"\n"
	"\told= oldtarget=\n"
	"\tif [ -r \"$state\" ]; then\n"
	"\t\told=$(cut -d' ' -f1 \"$state\")\n"
	"\t\toldtarget=$(cut -d' ' -f2 \"$state\")\n"
	"\tfi\n"
	"\tif [ -n \"$old\" ] && [ \"$old\" != \"$id\" ] && [ \"$oldtarget\" = \"$target\" ]; then\n"
	"\t\thotpatch apply \"$id\" --all --replace >/dev/null || true\n"
	"\telse\n"
	"\t\told=\n"
	"\tfi\n"
	"\trc=0\n"
	"\thotpatch enable \"$id\" || rc=$?\n"
	"\tif [ \"$rc\" -eq 1 ]; then\n"
	"\t\techo \"$DPKG_MAINTSCRIPT_PACKAGE: patch $id is not applied to every process\" \\\n"
	"\t\t\t\"yet; hotpatchd retries, see 'hotpatch status'\" >&2\n"
	"\telif [ \"$rc\" -ne 0 ]; then\n"
	"\t\texit \"$rc\"\n"
	"\tfi\n"
	"\tif [ -n \"$old\" ]; then\n"
	"\t\tremove_old \"$old\"\n"
	"\tfi\n"
	"\tmkdir -p \"${state%/*}\"\n"
	"\techo \"$id $target\" > \"$state\"\n"
	"\t;;\n"
	"esac\n"
	"exit 0\n";

/* The daemon reverts asynchronously, and remove is refused while any
 * process still carries the patch: wait for it, within reason. A patch that
 * cannot come out fails the removal, and dpkg keeps the package. On an
 * upgrade nothing happens here: the new version's postinst supersedes this
 * patch without a moment unpatched. */
static const char prerm_body[] =
	"case \"$1\" in\n"
	"remove|deconfigure)\n"
	"\trm -f \"$state\"\n"
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

static const char postrm_body[] =
	"case \"$1\" in\n"
	"purge)\n"
	"\trm -f \"$state\"\n"
	"\t;;\n"
	"esac\n"
	"exit 0\n";

static int write_script(const struct pkg *p, const char *name, const char *body)
{
	const struct manifest *m = &p->b->manifest;
	struct buf o = {0};
	char path[4200];
	int r;

	buf_printf(&o, script_head, p->b->id, m->name, p->b->id, p->build_id, p->b->id, p->name);
	buf_printf(&o, "%s", body);
	snprintf(path, sizeof(path), "%s/DEBIAN/%s", p->stage, name);
	r = file_write_atomic(path, o.data, o.len, 0755);
	buf_free(&o);
	return r;
}

/* A tool every Debian host has (dpkg-deb, gzip), its standard output
 * discarded. */
static int run_tool(char *const argv[], const char *package)
{
	posix_spawn_file_actions_t fa;
	pid_t pid;
	int r, status;

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
	r = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (r)
		return hp_err(-r, "cannot run %s: %s (it is in the %s package)", argv[0],
			      strerror(r), package);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return hp_err(-errno, "waiting for %s: %m", argv[0]);
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		return hp_err(-EIO, "%s failed (its message is above)", argv[0]);
	return 0;
}

static int run_dpkg_deb(const char *stage, const char *out)
{
	char *argv[] = {"dpkg-deb", "--root-owner-group", "--build", (char *)stage, (char *)out,
			NULL};

	return run_tool(argv, "dpkg");
}

/* The changelog a Debian package must have: one entry, this build. */
static void changelog_text(const struct pkg *p, struct buf *o)
{
	const struct manifest *m = p->b ? &p->b->manifest : NULL;
	time_t t = m ? (time_t)m->created : p->nf ? (time_t)p->nf->created : 0;
	struct tm tm;
	char date[64] = "Thu, 01 Jan 1970 00:00:00 +0000";

	if (gmtime_r(&t, &tm))
		strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", &tm);
	if (p->nf) {
		buf_printf(o, "%s (%s) unstable; urgency=low\n\n  * No live patch needed: the "
			      "fixes up to ",
			   p->name, p->version);
		add_oneline(o, p->nf->to);
		buf_printf(o, "\n    change no code of build-id %s.\n\n -- %s  %s\n", p->nf->build_id,
			   p->contact, date);
		return;
	}
	if (!m) {
		buf_printf(o, "%s (%s) unstable; urgency=low\n\n  * Subscription: the live patches "
			      "published as %s.\n\n -- %s  %s\n",
			   p->name, p->version, p->name, p->contact, date);
		return;
	}
	buf_printf(o, "%s (%s) unstable; urgency=high\n\n  * Live patch %s for %s\n"
		      "    (build-id %s).\n",
		   p->name, p->version, p->b->id, m->target_path, p->build_id);
	for (size_t i = 0; i < m->ncves; i++) {
		buf_printf(o, "  * Fixes ");
		add_oneline(o, m->cves[i]);
		buf_printf(o, ".\n");
	}
	buf_printf(o, "\n -- %s  %s\n", p->contact, date);
}

static const char copyright_text[] =
	"Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n"
	"Comment: A live patch bundle made by `hotpatch package`. Its code is built\n"
	" from the sources of the program it patches, and of the fix.\n"
	"\n"
	"Files: *\n"
	"Copyright: %.4s the authors of the patched program and of the fix\n"
	"License: same-as-patched-program\n"
	" The patch object is derived from the sources of the program it patches\n"
	" and is distributed under that program's license.\n";

/* usr/share/doc/PACKAGE: copyright and changelog.gz, as Debian policy asks. */
static int write_docs(const struct pkg *p)
{
	struct buf log = {0};
	char dir[4200], path[4400];
	char *gzip[] = {"gzip", "-9nf", path, NULL};
	int r;

	snprintf(dir, sizeof(dir), "%s/usr/share/doc/%s", p->stage, p->name);
	r = mkdir_p(dir, 0755);
	if (r < 0)
		return r;
	snprintf(path, sizeof(path), "%s/copyright", dir);
	/* The version starts with the bundle's year (pkg_version()). */
	buf_printf(&log, copyright_text, strlen(p->version) >= 4 ? p->version : "1970");
	r = file_write_atomic(path, log.data, log.len, 0644);
	buf_free(&log);
	if (r < 0)
		return r;
	changelog_text(p, &log);
	snprintf(path, sizeof(path), "%s/changelog", dir);
	r = file_write_atomic(path, log.data, log.len, 0644);
	buf_free(&log);
	return r < 0 ? r : run_tool(gzip, "gzip");
}

/* The docs, and one file: DIR/NAME in the hosts' tree. */
static int write_docs_and(const struct pkg *p, const char *dir, const char *name,
			  const void *data, size_t len)
{
	char path[4400];
	int r = write_docs(p);

	snprintf(path, sizeof(path), "%s/%s", p->stage, dir);
	if (r == 0)
		r = mkdir_p(path, 0755);
	if (r < 0)
		return r;
	snprintf(path, sizeof(path), "%s/%s/%s", p->stage, dir, name);
	return file_write_atomic(path, data, len, 0644);
}

/* The subscription's one file says what it is (a package of documentation
 * alone would be an empty package to Debian's tools). */
static int write_subscription(const struct pkg *p)
{
	struct buf text = {0};
	int r;

	buf_printf(&text, "This host takes the live patches published as %s.\n", p->name);
	r = write_docs_and(p, PKG_SUBSCRIPTION_DIR, p->name, text.data, text.len);
	buf_free(&text);
	return r;
}

/* The record, where catch-up looks: NOFIX_DIR/BUILDID. */
static int write_nofix(const struct pkg *p)
{
	return write_docs_and(p, NOFIX_DIR, p->nf->build_id, p->nf_data, p->nf_len);
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
	if (p->b)
		control_text(p, &ctl);
	else if (p->nf)
		nofix_control(p, &ctl);
	else
		subscription_control(p, p->name + strlen("hotpatch-patch-"), &ctl);
	snprintf(path, sizeof(path), "%s/DEBIAN/control", p->stage);
	r = file_write_atomic(path, ctl.data, ctl.len, 0644);
	buf_free(&ctl);
	if (r < 0 || !p->b)
		return r < 0 ? r : p->nf ? write_nofix(p) : write_subscription(p);
	if (r == 0)
		r = write_script(p, "postinst", postinst_body);
	if (r == 0)
		r = write_script(p, "prerm", prerm_body);
	if (r == 0)
		r = write_script(p, "postrm", postrm_body);
	if (r == 0)
		r = write_docs(p);
	if (r < 0)
		return r;
	snprintf(path, sizeof(path), "%s/" PKG_BUNDLE_DIR, p->stage);
	r = mkdir_p(path, 0755);
	if (r < 0)
		return r;
	snprintf(path, sizeof(path), "%s/" PKG_BUNDLE_DIR "/%s.hpb", p->stage, p->b->id);
	return file_write_atomic(path, p->b->data, p->b->size, 0644);
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

/* Builds the package in @dir (of bundle @b, or the no-fix record @p's, or
 * a subscription); its path in @ret_out. */
static int package(const struct bundle *b, struct pkg p, const struct pkg_opts *o, char *ret_out,
		   size_t len)
{
	struct buf contact = {0};
	const char *dir = o->dir;
	char tmp[4200];
	int r;

	p.b = b;
	r = pkg_name(o->subscribe ? o->subscribe
		     : o->name    ? o->name
		     : b          ? b->manifest.name
				  : p.nf->package,
		     p.name, sizeof(p.name));
	if (r == 0)
		r = maintainer(o->maintainer, &contact);
	if (r < 0)
		return r;
	snprintf(p.contact, sizeof(p.contact), "%s", contact.data);
	buf_free(&contact);
	if (b)
		hex_encode(b->manifest.build_id, b->manifest.build_id_len, p.build_id);
	pkg_version(b ? b->manifest.created : p.nf ? p.nf->created : 0, p.version,
		    sizeof(p.version));
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

/* --no-fix RECORD: checked here as the hosts will read it. */
static int package_nofix(const struct pkg_opts *o)
{
	_cleanup_free_ uint8_t *data = NULL;
	struct nofix nf;
	size_t len;
	char out[4096];
	int r = file_read_all(o->no_fix, 1u << 20, &data, &len);

	if (r < 0)
		return cli_refuse(hp_err_prefix(r, "%s: ", o->no_fix));
	r = nofix_decode((const char *)data, len, &nf);
	if (r < 0)
		return cli_usage("%s: %s", o->no_fix, hp_err_msg(r));
	r = package(NULL, (struct pkg){.nf = &nf, .nf_data = data, .nf_len = len}, o, out,
		    sizeof(out));
	if (r == 0)
		printf("packaged the no-fix record for build %s as %s\n", nf.build_id, out);
	nofix_free(&nf);
	return r < 0 ? cli_refuse(r) : EXIT_OK;
}

static int usage(int status)
{
	printf("Usage: hotpatch package BUNDLE [-o DIR] [--name NAME] [--maintainer \"NAME <MAIL>\"]\n"
	       "       hotpatch package --subscribe NAME [-o DIR] [--maintainer ...]\n"
	       "       hotpatch package --no-fix RECORD [--name NAME] [-o DIR] [--maintainer ...]\n\n"
	       "Wrap a signed bundle in a Debian package, hotpatch-patch-NAME (NAME: the\n"
	       "patch's name, or --name), version the bundle's creation time, in DIR\n"
	       "(default: the current directory). Installing the package installs the\n"
	       "bundle into the store and enables it (hotpatchd keeps it applied); a\n"
	       "rebuilt fix packaged under the same name upgrades it, superseding the\n"
	       "previous patch in every process in one flip; removing the package\n"
	       "disables the patch, reverts it everywhere and removes it. The maintainer\n"
	       "is --maintainer, else DEBFULLNAME and DEBEMAIL. The bundle must verify\n"
	       "against trusted.d here, as it will on the hosts.\n\n"
	       "--subscribe NAME makes version 0 of hotpatch-patch-NAME, with no patch: a\n"
	       "host that installs it once gets each later one with `apt upgrade`\n"
	       "(which never installs a package the host does not have).\n\n"
	       "--no-fix RECORD packages the record `build --upgrade-to --no-fix-record`\n"
	       "wrote when no fix changed the file's code (NAME: default the record's\n"
	       "package): on the hosts, catch-up then reports the processes of that build\n"
	       "as needing no fix instead of a bundle missing.\n");
	return status;
}

int cmd_package(int argc, char **argv)
{
	static const struct option opts[] = {
		{"output", required_argument, NULL, 'o'},
		{"name", required_argument, NULL, 'n'},
		{"maintainer", required_argument, NULL, 'm'},
		{"subscribe", required_argument, NULL, 's'},
		{"no-fix", required_argument, NULL, 'x'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	struct pkg_opts o = {.dir = "."};
	struct bundle *b = NULL;
	char out[4096];
	int c, r;

	while ((c = getopt_long(argc, argv, "ho:", opts, NULL)) != -1) {
		if (c == 'o')
			o.dir = optarg;
		else if (c == 'n')
			o.name = optarg;
		else if (c == 'm')
			o.maintainer = optarg;
		else if (c == 's')
			o.subscribe = optarg;
		else if (c == 'x')
			o.no_fix = optarg;
		else
			return usage(c == 'h' ? EXIT_OK : EXIT_REFUSED);
	}
	if (o.subscribe) {
		if (optind != argc || o.name)
			return cli_usage("--subscribe NAME takes no bundle and no --name");
		r = package(NULL, (struct pkg){0}, &o, out, sizeof(out));
		if (r < 0)
			return cli_refuse(r);
		printf("packaged the subscription to hotpatch-patch-%s as %s\n", o.subscribe, out);
		return EXIT_OK;
	}
	if (o.no_fix) {
		if (optind != argc || o.subscribe)
			return cli_usage("--no-fix RECORD takes no bundle and no --subscribe");
		return package_nofix(&o);
	}
	if (optind + 1 != argc)
		return cli_usage("package needs exactly one bundle");
	/* Never unsigned: every host would refuse it at install time. */
	r = cli_load_bundle(argv[optind], false, &b);
	if (r == 0)
		r = package(b, (struct pkg){0}, &o, out, sizeof(out));
	if (r < 0) {
		bundle_free(b);
		return cli_refuse(r);
	}
	printf("packaged %s (%s) as %s\n", b->id, b->manifest.name, out);
	bundle_free(b);
	return EXIT_OK;
}
