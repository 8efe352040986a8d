/* SPDX-License-Identifier: MIT */
/*
 * Progress of a build, as it happens: the builder says what it is doing
 * (fetching, building, reusing, refusing a fix); the program that runs it
 * decides where that goes (hotpatch-build prints it on stderr). Library
 * code never prints.
 */
#pragma once

enum progress_kind {
	PROGRESS_LINE,    /* one line of progress, without its newline */
	PROGRESS_EXPLAIN, /* --explain: the verdicts, whole lines */
};

typedef void (*progress_fn)(enum progress_kind kind, const char *text, void *arg);

/* Where progress lines go; NULL (the default) drops them. */
void progress_set(progress_fn fn, void *arg);
/* One line, without its newline. */
void progress(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The --explain text. */
void progress_explain(const char *text);
