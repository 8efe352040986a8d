/* SPDX-License-Identifier: MIT */
/*
 * Debian version numbers compared as dpkg compares them ("[epoch:]upstream
 * [-revision]", '~' before anything, letters before other characters,
 * digits as numbers), so that "which changelog entries lie between the
 * version a process runs and the version installed" has dpkg's answer.
 * Pure text functions: no I/O.
 */
#pragma once

/* <0, 0, >0 as @a is older, equal or newer than @b. */
int debversion_cmp(const char *a, const char *b);
