/* SPDX-License-Identifier: MIT */
#include "aptsource.h"

#include <dirent.h>
#include <errno.h>
#include <glob.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "debpkg.h"
#include "error.h"
#include "fileio.h"
#include "macro.h"
#include "runcmd.h"
#include "progress.h"

static void fclosep(FILE **f)
{
	if (*f)
		fclose(*f);
}

/* A Debian archive, not a third-party repository the host also uses. */
static bool is_debian(const char *uri)
{
	return strstr(uri, "debian.org") || strstr(uri, "/debian-security") ||
	       (strlen(uri) >= 7 && strcmp(uri + strlen(uri) - 7, "/debian") == 0) ||
	       strstr(uri, "/debian/");
}

struct src_entry {
	char uri[512], suites[512], comps[256], signed_by[512];
};

static void emit(struct buf *out, const struct src_entry *e, bool oneline)
{
	if (!e->uri[0] || !e->suites[0] || !is_debian(e->uri))
		return;
	if (oneline) {
		/* one line per suite */
		char suites[512], *save = NULL;

		snprintf(suites, sizeof(suites), "%s", e->suites);
		for (char *s = strtok_r(suites, " \t", &save); s; s = strtok_r(NULL, " \t", &save))
			buf_printf(out, "deb %s %s %s\n", e->uri, s, e->comps[0] ? e->comps : "main");
		return;
	}
	buf_printf(out, "Types: deb-src\nURIs: %s\nSuites: %s\nComponents: %s\n", e->uri, e->suites,
		   e->comps[0] ? e->comps : "main");
	if (e->signed_by[0])
		buf_printf(out, "Signed-By: %s\n", e->signed_by);
	buf_printf(out, "\n");
}

static void copy_value(char *dst, size_t len, const char *v)
{
	while (*v == ' ' || *v == '\t')
		v++;
	snprintf(dst, len, "%.*s", (int)strcspn(v, "\n"), v);
}

/* deb822 (.sources): stanzas of Key: value. */
static void parse_deb822(FILE *f, struct buf *out, bool oneline)
{
	struct src_entry e = {0};
	bool is_deb = false;
	char line[1024];

	for (;;) {
		bool eof = !fgets(line, sizeof(line), f);

		if (eof || line[0] == '\n') {
			if (is_deb)
				emit(out, &e, oneline);
			e = (struct src_entry){0};
			is_deb = false;
			if (eof)
				return;
			continue;
		}
		if (line[0] == '#')
			continue;
		if (strncasecmp(line, "Types:", 6) == 0)
			is_deb = strstr(line, "deb ") || strstr(line, "deb\n") ||
				 strstr(line, "deb-src");
		else if (strncasecmp(line, "URIs:", 5) == 0)
			copy_value(e.uri, sizeof(e.uri), line + 5);
		else if (strncasecmp(line, "Suites:", 7) == 0)
			copy_value(e.suites, sizeof(e.suites), line + 7);
		else if (strncasecmp(line, "Components:", 11) == 0)
			copy_value(e.comps, sizeof(e.comps), line + 11);
		else if (strncasecmp(line, "Signed-By:", 10) == 0)
			copy_value(e.signed_by, sizeof(e.signed_by), line + 10);
	}
}

/* One-line format: deb [options] URI SUITE COMPONENT... */
static void parse_oneline(FILE *f, struct buf *out, bool oneline)
{
	char line[1024];

	while (fgets(line, sizeof(line), f)) {
		struct src_entry e = {0};
		char *save = NULL, *tok = strtok_r(line, " \t\n", &save);

		if (!tok || (strcmp(tok, "deb") && strcmp(tok, "deb-src")))
			continue;
		tok = strtok_r(NULL, " \t\n", &save);
		if (tok && tok[0] == '[') {
			while (tok && !strchr(tok, ']')) {
				if (strncmp(tok, "[signed-by=", 11) == 0 || strncmp(tok, "signed-by=", 10) == 0)
					snprintf(e.signed_by, sizeof(e.signed_by), "%s", strchr(tok, '=') + 1);
				tok = strtok_r(NULL, " \t\n", &save);
			}
			tok = strtok_r(NULL, " \t\n", &save);
		}
		if (!tok)
			continue;
		snprintf(e.uri, sizeof(e.uri), "%s", tok);
		tok = strtok_r(NULL, " \t\n", &save);
		if (!tok)
			continue;
		snprintf(e.suites, sizeof(e.suites), "%s", tok);
		while ((tok = strtok_r(NULL, " \t\n", &save)))
			snprintf(e.comps + strlen(e.comps), sizeof(e.comps) - strlen(e.comps), "%s%s",
				 e.comps[0] ? " " : "", tok);
		emit(out, &e, oneline);
	}
}

static int host_sources(struct buf *out, bool oneline)
{
	const char *pats[] = {"/etc/apt/sources.list", "/etc/apt/sources.list.d/*.list",
			      "/etc/apt/sources.list.d/*.sources"};

	for (size_t p = 0; p < ARRAY_SIZE(pats); p++) {
		glob_t g;

		if (glob(pats[p], 0, NULL, &g) != 0)
			continue;
		for (size_t i = 0; i < g.gl_pathc; i++) {
			_cleanup_(fclosep) FILE *f = fopen(g.gl_pathv[i], "re");
			size_t len = strlen(g.gl_pathv[i]);

			if (!f)
				continue;
			if (len > 8 && strcmp(g.gl_pathv[i] + len - 8, ".sources") == 0)
				parse_deb822(f, out, oneline);
			else
				parse_oneline(f, out, oneline);
		}
		globfree(&g);
	}
	if (!out->len)
		return hp_err(-ENOENT, "the host's apt sources (/etc/apt/sources.list*) name no "
				       "Debian mirror to fetch source packages from");
	return 0;
}

int aptsource_mirrors(char **ret)
{
	struct buf b = {0};
	int r = host_sources(&b, true);

	if (r < 0) {
		buf_free(&b);
		return r;
	}
	*ret = strdup(buf_cstr(&b));
	buf_free(&b);
	return *ret ? 0 : hp_err(-ENOMEM, "out of memory");
}

static int write_config(struct aptsource *a)
{
	struct buf list = {0}, conf = {0};
	char path[4200 + 64];
	int r;

	r = host_sources(&list, false);
	if (r == 0) {
		snprintf(path, sizeof(path), "%s/sources.list.d/hotpatch.sources", a->dir);
		r = file_write_atomic(path, list.data, list.len, 0644);
	}
	/* Everything apt reads or writes is ours, except the keyrings the host
	 * already trusts and dpkg's status (read only). */
	buf_printf(&conf,
		   "Dir::Etc::SourceList \"%s/sources.list\";\n"
		   "Dir::Etc::SourceParts \"%s/sources.list.d\";\n"
		   "Dir::Etc::Preferences \"%s/preferences\";\n"
		   "Dir::Etc::PreferencesParts \"%s/preferences.d\";\n"
		   "Dir::State \"%s/state\";\n"
		   "Dir::State::status \"%s/status\";\n"
		   "Dir::Cache \"%s/cache\";\n"
		   "APT::Sandbox::User \"root\";\n",
		   a->dir, a->dir, a->dir, a->dir, a->dir, a->dir, a->dir);
	if (r == 0)
		r = file_write_atomic(a->conf, conf.data, conf.len, 0644);
	buf_free(&list);
	buf_free(&conf);
	return r;
}

int aptsource_init(struct aptsource *a, const char *cache, const char *local)
{
	const char *sub[] = {"sources.list.d", "preferences.d", "state/lists/partial",
			     "cache/archives/partial", "src"};
	char path[4200 + 64];
	int r = 0;

	a->local = local;
	snprintf(a->dir, sizeof(a->dir), "%s/apt", cache);
	snprintf(a->conf, sizeof(a->conf), "%s/apt.conf", a->dir);
	snprintf(a->downloads, sizeof(a->downloads), "%s/src", a->dir);
	for (size_t i = 0; r == 0 && i < ARRAY_SIZE(sub); i++) {
		snprintf(path, sizeof(path), "%s/%s", a->dir, sub[i]);
		r = mkdir_p(path, 0755);
	}
	if (r < 0)
		return hp_err(r, "cannot create %s: %s", a->dir, strerror(-r));
	if (local)
		return 0;
	snprintf(path, sizeof(path), "%s/sources.list", a->dir);
	if (r == 0)
		r = file_write_atomic(path, "", 0, 0644);
	snprintf(path, sizeof(path), "%s/status", a->dir);
	if (r == 0)
		r = file_write_atomic(path, "", 0, 0644);
	return r == 0 ? write_config(a) : r;
}

static int apt_update(struct aptsource *a)
{
	char marker[4200 + 64];
	char *argv[] = {"apt-get", "-q", "-c", a->conf, "update", NULL};
	int r;

	snprintf(marker, sizeof(marker), "%s/updated", a->dir);
	if (access(marker, F_OK) == 0)
		return 0;
	progress("fetching the source package lists ...");
	r = runcmd(argv, &(struct runcmd_opts){.quiet = true});
	if (r < 0)
		return hp_err(r, "apt-get update with hotpatch's sources (%s) failed; is the mirror "
				 "reachable?",
			      a->conf);
	return file_write_atomic(marker, "", 0, 0644);
}

/* The .dsc of @source @version, downloading it (and its files) if needed. */
static int find_dsc(struct aptsource *a, const char *source, const char *version, char *ret,
		    size_t len)
{
	_cleanup_free_ char *spec = NULL;
	int r;

	snprintf(ret, len, "%s/%s_%s.dsc", a->local ? a->local : a->downloads, source,
		 debver_noepoch(version));
	if (access(ret, R_OK) == 0)
		return 0;
	if (a->local)
		return hp_err(-ENOENT, "%s has no source package %s %s (%s)", a->local, source,
			      version, ret);
	r = apt_update(a);
	if (r < 0)
		return r;
	if (asprintf(&spec, "%s=%s", source, version) < 0)
		return -ENOMEM;
	{
		char *argv[] = {"apt-get", "-q", "-c", a->conf, "source", "--download-only",
				"--only-source", spec, NULL};

		progress("fetching source package %s ...", spec);
		r = runcmd(argv, &(struct runcmd_opts){.cwd = a->downloads, .quiet = true});
	}
	if (r < 0)
		return hp_err(r, "apt-get source %s failed: the archive no longer has that version "
				 "(source packages only in the security suite are often missing)",
			      spec);
	return access(ret, R_OK) == 0 ? 0 : hp_err(-ENOENT, "apt-get source made no %s", ret);
}

int aptsource_extract(struct aptsource *a, const char *source, const char *version,
		      const char *dest)
{
	char dsc[4400], parent[4400];
	int r = find_dsc(a, source, version, dsc, sizeof(dsc));
	char *argv[] = {"dpkg-source", "--no-check", "-x", dsc, (char *)dest, NULL};

	if (r < 0)
		return r;
	/* dpkg-source links the tarballs next to @dest: its parent must exist. */
	snprintf(parent, sizeof(parent), "%s", dest);
	if (strrchr(parent, '/'))
		*strrchr(parent, '/') = '\0';
	r = mkdir_p(parent, 0755);
	if (r == 0)
		r = runcmd(argv, &(struct runcmd_opts){.quiet = true});
	return r < 0 ? hp_err(r, "dpkg-source -x %s failed", dsc) : 0;
}
