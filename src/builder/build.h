/* SPDX-License-Identifier: MIT */
/* hotpatch build: making bundles. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

struct build_source_opts {
	const char *target;    /* the file the patch is for */
	const char *output;    /* the .hpb to write */
	char **sources;        /* patch sources (C) */
	size_t nsources;
	const char *debuginfo; /* separate debuginfo for the target, or NULL */
	const char *cc;        /* compiler, default $CC or cc */
	char **cflags;         /* extra compiler flags (-I, -D) */
	size_t ncflags;
	const char *name;
	const char *description;
	bool keep_tmp;
};

int build_from_source(const struct build_source_opts *o);
