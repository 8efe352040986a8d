/* SPDX-License-Identifier: MIT */
/*
 * A no-fix record: the build host's verdict that a package upgrade changes
 * no code of one shipped build, so a process running that build needs
 * neither a live patch nor a restart for it (memcached 1.6.18-1 ->
 * 1.6.18-1+deb12u1: its fixes are compiled out of Debian's binary). Without
 * it a host cannot tell "nothing to patch" from "no bundle published yet".
 *
 * `build --upgrade-to --no-fix-record FILE` writes it when it finds
 * nothing to patch; `hotpatch package --no-fix FILE` ships it at
 * usr/share/hotpatch/no-fix/BUILDID; `catch-up` reads it there. Text:
 *
 *   hotpatch-no-fix\t1
 *   build-id\tHEX         the build the verdict is about
 *   target\tPATH          the file, as the hosts have it
 *   package\tNAME         its binary package
 *   from\tVERSION         the version of that build
 *   to\tVERSION           the version whose fixes were examined
 *   created\tSECONDS
 *   (an empty line, then each fix's verdict as verdict_encode() writes it)
 *
 * It claims only that nothing needs doing, and is never applied; it comes
 * the way bundles come (an apt repository's signed package), and catch-up
 * reads only root-owned records that only root can write.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "verdict.h"

#define NOFIX_DIR "usr/share/hotpatch/no-fix"

struct nofix {
	char build_id[2 * 64 + 1]; /* hex */
	char target[1024];
	char package[128];
	char from[128];
	char to[128];
	uint64_t created;
	struct verdict v; /* each fix's verdict (fixes only) */
};

void nofix_encode(const struct nofix *n, struct buf *out);
/* A malformed record is -EBADMSG, naming the line. */
int nofix_decode(const char *text, size_t len, struct nofix *ret);
/* The record for @build_id (hex) in directory @dir (a file named by the
 * build-id); -ENOENT when there is none, -EPERM when it is not root's. */
int nofix_find(const char *dir, const char *build_id, struct nofix *ret);
void nofix_free(struct nofix *n);
