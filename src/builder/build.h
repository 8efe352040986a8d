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
};

struct build_source_opts {
	struct build_common c;
	char **sources; /* patch sources (C) */
	size_t nsources;
};

struct build_diff_opts {
	struct build_common c;
	const char *source_dir; /* the tree the target was built from */
	const char *diff;       /* the fix, a unified diff against source_dir */
	const char *build_cmd;  /* NULL: guessed from the tree */
	const char *built_file; /* the target's path in the build tree, NULL: by name */
	bool explain;           /* print what changed and why */
	bool no_file_update;    /* skip the third build (the fixed file for commit) */
};

int build_from_source(const struct build_source_opts *o);
int build_from_diff(const struct build_diff_opts *o);
