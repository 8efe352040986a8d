/* SPDX-License-Identifier: MIT */
/*
 * Processes hotpatchd leaves alone, from hotpatch.conf: by executable path
 * (exclude-exe), by systemd unit (exclude-unit, matched against the last
 * component of the process's cgroup), by cgroup prefix (exclude-cgroup), and
 * by user (exclude-user, a name or a uid).
 */
#pragma once

#include <stddef.h>
#include <sys/types.h>

#include "config.h"

/* The rule that excludes @pid, written into @ret_rule, or 0 when none does.
 * 1 when excluded. */
int exclude_match(const struct hp_config *c, pid_t pid, char *ret_rule, size_t len);
