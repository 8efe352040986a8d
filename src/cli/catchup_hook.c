/* SPDX-License-Identifier: MIT */
/*
 * The apt hook (data/apt/70hotpatch), both ends.
 *
 * pre (DPkg::Pre-Install-Pkgs, protocol version 3 on stdin): before dpkg
 * replaces anything, for each package being upgraded, the build-id of each
 * of its files that a running process maps, with the version being
 * replaced and the version coming, goes into the store's record
 * (pkgindex.h). Once dpkg has run, the old file is gone and dpkg knows only
 * the new version: this record is how catch-up says what a process runs.
 *
 * With `catch-up = build`, pre also builds the live patches that are
 * missing for those builds (catchup_build.c).
 *
 * post (DPkg::Post-Invoke): catch-up in the mode hotpatch.conf sets
 * (`catch-up = list | apply | build`).
 *
 * Neither ever fails the apt run: a hook that exits non-zero aborts it, and
 * a live patch is never worth a failed security upgrade. A failure is one
 * line on stderr.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "catchup.h"
#include "cli.h"
#include "fileio.h"
#include "hex.h"
#include "macro.h"
#include "module.h"
#include "pkgindex.h"
#include "procfs.h"

/* apt's configuration dump alone is some 100 KB; a big upgrade adds a line
 * per package. */
#define HOOK_INPUT_MAX (64u << 20)

struct upgrade {
	char package[160]; /* with :arch for Multi-Arch: same, as dpkg names its list */
	char old_version[128];
	char new_version[128];
};

struct mapped {
	unsigned major, minor;
	uint64_t inode;
};

struct pre {
	struct upgrade *up;
	size_t nup;
	struct mapped *m;
	size_t nm;
	struct pkgindex_entry *rec;
	size_t nrec;
};

static int read_stdin(char **ret)
{
	size_t cap = 1 << 16, len = 0;
	char *data = malloc(cap + 1);
	ssize_t n;

	while (data && (n = read(STDIN_FILENO, data + len, cap - len)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			break;
		len += (size_t)n;
		if (len == cap && cap < HOOK_INPUT_MAX) {
			char *nd = realloc(data, cap * 2 + 1);

			if (!nd)
				break;
			data = nd;
			cap *= 2;
		} else if (len == cap) {
			len = 0; /* too much: drain the rest, keep nothing */
		}
	}
	if (!data)
		return hp_err(-ENOMEM, "out of memory");
	data[len] = '\0';
	*ret = data;
	return 0;
}

/* "name oldver oldarch oldma < newver newarch newma action" (version 3): an
 * upgrade (or a downgrade, or a reinstall) unpacks a .deb over an installed
 * version. */
static bool parse_action(char *line, struct upgrade *ret)
{
	char *f[9], *save = NULL;
	size_t n = 0;

	for (char *t = strtok_r(line, " ", &save); t && n < 9; t = strtok_r(NULL, " ", &save))
		f[n++] = t;
	if (n != 9 || strcmp(f[1], "-") == 0 || strcmp(f[5], "-") == 0 ||
	    strncmp(f[8], "**", 2) == 0)
		return false;
	if (strcmp(f[3], "same") == 0)
		snprintf(ret->package, sizeof(ret->package), "%s:%s", f[0], f[2]);
	else
		snprintf(ret->package, sizeof(ret->package), "%s", f[0]);
	snprintf(ret->old_version, sizeof(ret->old_version), "%s", f[1]);
	snprintf(ret->new_version, sizeof(ret->new_version), "%s", f[5]);
	return true;
}

static int parse_input(char *text, struct pre *p)
{
	char *save = NULL, *l = strtok_r(text, "\n", &save);
	bool config = true;

	if (!l || strcmp(l, "VERSION 3") != 0)
		return hp_err(-EINVAL, "apt did not speak protocol version 3 (DPkg::Tools::Options::"
				       "/usr/sbin/hotpatch::Version \"3\" is missing)");
	/* strtok_r skips the empty line that ends the configuration, so the
	 * configuration's end is the first line without '='. */
	for (l = strtok_r(NULL, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		struct upgrade u;

		if (config && strchr(l, '='))
			continue;
		config = false;
		if (!parse_action(l, &u))
			continue;
		struct upgrade *nv = realloc(p->up, (p->nup + 1) * sizeof(*nv));

		if (!nv)
			return hp_err(-ENOMEM, "out of memory");
		p->up = nv;
		nv[p->nup++] = u;
	}
	return 0;
}

static void add_mapped(struct pre *p, const struct map_entry *e)
{
	struct mapped *nv;

	for (size_t i = 0; i < p->nm; i++)
		if (p->m[i].inode == e->inode && p->m[i].major == e->dev_major &&
		    p->m[i].minor == e->dev_minor)
			return;
	nv = realloc(p->m, (p->nm + 1) * sizeof(*nv));
	if (!nv)
		return;
	p->m = nv;
	nv[p->nm++] = (struct mapped){e->dev_major, e->dev_minor, e->inode};
}

/* Every file any process maps executable. */
static int collect_mapped(struct pre *p)
{
	pid_t *pids = NULL;
	size_t n = 0;
	int r = proc_list_pids(&pids, &n);

	for (size_t i = 0; r == 0 && i < n; i++) {
		struct proc_maps maps = {0};

		if (proc_maps_read(pids[i], &maps) < 0) {
			hp_err_clear();
			continue;
		}
		for (size_t k = 0; k < maps.n; k++)
			if (maps.v[k].inode && (maps.v[k].prot & PROT_EXEC))
				add_mapped(p, &maps.v[k]);
		proc_maps_free(&maps);
	}
	free(pids);
	return r;
}

/* On overlayfs (a container's root, most often) stat() gives the overlay's
 * device while the maps give the layer's, with the same inode number: there
 * the inode alone decides. A false match only records one more build of a
 * package being upgraded. */
static bool is_mapped(const struct pre *p, const char *path, const struct stat *st)
{
	struct statfs sf;
	bool overlay = statfs(path, &sf) == 0 && sf.f_type == OVERLAYFS_SUPER_MAGIC;

	for (size_t i = 0; i < p->nm; i++)
		if (p->m[i].inode == st->st_ino &&
		    (overlay ||
		     (p->m[i].major == major(st->st_dev) && p->m[i].minor == minor(st->st_dev))))
			return true;
	return false;
}

static int record_file(struct pre *p, const struct upgrade *u, const char *path)
{
	uint8_t id[HP_BUILD_ID_MAX];
	struct pkgindex_entry *nv, *e;
	size_t len = 0;

	if (module_path_build_id(path, id, &len) < 0 || !len) {
		hp_err_clear();
		return 0;
	}
	nv = realloc(p->rec, (p->nrec + 1) * sizeof(*nv));
	if (!nv)
		return hp_err(-ENOMEM, "out of memory");
	p->rec = nv;
	e = &nv[p->nrec++];
	*e = (struct pkgindex_entry){0};
	hex_encode(id, len, e->build_id);
	snprintf(e->package, sizeof(e->package), "%.*s", (int)strcspn(u->package, ":"),
		 u->package);
	snprintf(e->version, sizeof(e->version), "%s", u->old_version);
	snprintf(e->new_version, sizeof(e->new_version), "%s", u->new_version);
	snprintf(e->path, sizeof(e->path), "%s", path);
	return 0;
}

/* The files of @u's installed version that a process maps, from dpkg's
 * own list of them (read directly: one dpkg-query per package would add
 * 40 ms each to a large upgrade). */
static int record_package(struct pre *p, const struct upgrade *u)
{
	_cleanup_free_ uint8_t *list = NULL;
	char path[PATH_MAX], *save = NULL;
	size_t len;
	int r = 0;

	snprintf(path, sizeof(path), "/var/lib/dpkg/info/%s.list", u->package);
	if (file_read_all(path, 64u << 20, &list, &len) < 0) {
		hp_err_clear();
		return 0; /* no list: nothing installed to replace */
	}
	for (char *l = strtok_r((char *)list, "\n", &save); l && r == 0;
	     l = strtok_r(NULL, "\n", &save)) {
		struct stat st;

		if (l[0] == '/' && stat(l, &st) == 0 && S_ISREG(st.st_mode) && is_mapped(p, l, &st))
			r = record_file(p, u, l);
	}
	return r;
}

/* `catch-up = build`: now, while the old version is installed. */
static int maybe_build(const struct pre *p)
{
	struct hp_config conf;
	int r = config_load(&conf);

	if (r < 0)
		return r;
	if (conf.catch_up == CATCHUP_BUILD)
		r = catchup_build(&conf, p->rec, p->nrec);
	config_free(&conf);
	return r;
}

static int hook_pre(void)
{
	_cleanup_free_ char *text = NULL;
	struct pre p = {0};
	int r;

	r = read_stdin(&text);
	if (r == 0)
		r = parse_input(text, &p);
	if (r == 0 && p.nup)
		r = collect_mapped(&p);
	for (size_t i = 0; r == 0 && i < p.nup; i++)
		r = record_package(&p, &p.up[i]);
	if (r == 0 && p.nrec)
		r = pkgindex_add(p.rec, p.nrec);
	if (r == 0 && p.nrec)
		printf("hotpatch: recorded %zu running build%s of the packages being upgraded\n",
		       p.nrec, p.nrec == 1 ? "" : "s");
	if (r == 0 && p.nrec)
		r = maybe_build(&p);
	free(p.up);
	free(p.m);
	free(p.rec);
	return r;
}

static int hook_post(void)
{
	struct catchup c = {0};
	int r = catchup_init(&c, &c.list);

	if (r == 0)
		r = catchup_run(&c);
	if (r == 0)
		catchup_print_text(&c, true);
	catchup_free(&c);
	return r;
}

int catchup_apt_hook(const char *phase)
{
	bool pre = strcmp(phase, "pre") == 0;
	int r = pre ? hook_pre() : hook_post();

	if (r < 0)
		fprintf(stderr, "hotpatch: the catch-up hook (%s) failed; the upgrade goes on: %s\n",
			phase, hp_err_msg(r));
	fflush(stdout);
	return EXIT_OK;
}
