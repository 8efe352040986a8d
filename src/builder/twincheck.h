/* SPDX-License-Identifier: MIT */
/*
 * Is a rebuilt file the twin of the shipped one? Equal build-ids: exact.
 * Otherwise every loaded section except the build-id note must be byte for
 * byte the same (the build-id also hashes debug info, which a newer -dev
 * package's headers can change while the code stays the same): then the
 * twin is code-identical. Anything else is refused, naming the sections that
 * differ and the likely cause.
 */
#pragma once

enum twin_verdict {
	TWIN_EXACT,
	TWIN_CODE_IDENTICAL,
	TWIN_REFUSED,
};

/* Returns 0 with the verdict, or a negative errno when a file cannot be
 * read. @ret_why: a sentence for the user (free it). */
int twincheck(const char *shipped, const char *twin, enum twin_verdict *ret, char **ret_why);
const char *twin_verdict_name(enum twin_verdict v);
