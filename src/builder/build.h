/* SPDX-License-Identifier: MIT */
/* hotpatch build: making bundles, from patch sources or from a source diff. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* What every way of building takes. */
struct build_common {
	const char *target;    /* the file the patch is for */
	const char *output;    /* the .hpb to write */
	const char *debuginfo; /* separate debuginfo for the target, or NULL */
	const char *cc;        /* compiler, default $CC or cc */
	char **cflags;         /* extra compiler flags (-I, -D) */
	size_t ncflags;
	const char *name;
	const char *description;
	bool keep_tmp;
	/* debuginfo is a rebuilt twin whose loaded sections were checked to be
	 * the target's: use its symbols even if its build-id differs. */
	bool debuginfo_is_twin;
	/* The target's path on the hosts, for the manifest (commit writes
	 * there, and status compares what is there): the path inside the
	 * sysroot of `--upgrade-to --sysroot`. NULL: @target's real path. */
	const char *target_path;
	/* The package the fixed file comes from (debref_format()'s text), for
	 * commit to install it with dpkg; NULL: none (build --upgrade-to). */
	const char *debref;
};

struct build_source_opts {
	struct build_common c;
	char **sources; /* patch sources (C) */
	size_t nsources;
};

/* A function the diff build found changed, for whoever reports per fix. */
struct fn_change {
	const char *name;
	const char *file; /* its source file, as the debug info names it, or NULL */
	unsigned line, end_line;
	const char *why;
};

struct buf;
struct refusal;
/* Called once the changes are known, before the patch object is written: may
 * add to the explanation (which the bundle carries) and narrow the bundle's
 * CVE ids (@cves, malloc'ed strings in a malloc'ed array). @files: the source
 * files of the objects compared. */
typedef void (*build_report_fn)(void *ctx, const struct fn_change *v, size_t n,
				const char *const *files, size_t nfiles, struct buf *explain,
				char ***cves, size_t *ncves);

struct build_diff_opts {
	struct build_common c;
	const char *source_dir; /* the tree the target was built from */
	const char *diff;       /* the fix, a unified diff against source_dir */
	const char *build_cmd;  /* NULL: guessed from the tree */
	const char *built_file; /* the target's path in the build tree, NULL: by name */
	bool explain;           /* print what changed and why */
	bool no_file_update;    /* skip the third build (the fixed file for commit) */
	/* Set by hotpatch build --upgrade-to (build_upgrade.c): */
	const char *orig_tree;  /* both trees already built diffable: no copy, no build */
	const char *fixed_tree;
	const char *fixed_file; /* the fixed file for commit, already built */
	bool target_objs_only;  /* compare only the objects linked into the target */
	/* The linked original and fixed builds of the target, for the
	 * completeness check, and the files holding their .symtab (a build's
	 * debug file when the packaged one is stripped); NULL: found in the
	 * trees by the target's name. */
	const char *linked_orig, *linked_orig_syms;
	const char *linked_fixed, *linked_fixed_syms;
	build_report_fn report;
	void *report_ctx;
	/* When set, every object's refusal is handed here, as data, and the
	 * comparison goes on, so a caller leaving refused fixes out sees them
	 * all at once (each round is a rebuild); the first is still returned.
	 * So is every difference the completeness check finds unaccounted. */
	void (*refusal)(void *ctx, const struct refusal *r);
	/* Refusals decided before this build (fixes left out), for the
	 * bundle's verdict. */
	const struct refusal *refused;
	size_t nrefused;
	/* Each fix's verdict, for the bundle's, as report() left them; NULL:
	 * the diff is the one fix, live when the bundle is written. */
	const struct verdict *fixes;
};

struct build_upgrade_opts {
	struct build_common c;
	const char *version;    /* --upgrade-to */
	const char *sysroot;    /* the root the target lives in, "/" by default */
	const char *diff;       /* --diff: this fix instead of the newer version's */
	const char *cache;      /* sources, build roots, builds */
	const char *build_root; /* a root to build in ("/": the host), NULL: cached one */
	const char *sources;    /* a directory of .dsc files instead of the archive */
	const char *profiles;   /* --build-profiles: DEB_BUILD_PROFILES for every build */
	/* --no-fix-record: where to write the verdict when the upgrade changes
	 * no code of the target (nofix.h); build_from_upgrade() then returns
	 * BUILD_NO_FIX and writes no bundle. */
	const char *no_fix_record;
	bool explain;
	bool no_file_update;    /* no fixed file: skip the newer version's plain build */
};

#define BUILD_NO_FIX 1

int build_from_source(const struct build_source_opts *o);
int build_from_diff(const struct build_diff_opts *o);
int build_from_upgrade(const struct build_upgrade_opts *o);
