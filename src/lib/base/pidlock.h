/* SPDX-License-Identifier: MIT */
/*
 * One hotpatch operation per target process at a time, across every hotpatch
 * process on the host (CLI and daemon). The lock is an abstract unix socket
 * named after the pid: the kernel releases it when its holder dies, so a
 * killed tool never leaves a stale lock behind.
 */
#pragma once

#include <stdint.h>
#include <sys/types.h>

/* Returns the lock fd, or -ETIMEDOUT if another operation held it until
 * @deadline_ns. */
int pidlock_take(pid_t pid, int64_t deadline_ns);
void pidlock_release(int fd);
