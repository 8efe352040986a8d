/* SPDX-License-Identifier: MIT */
/*
 * What else wakes hotpatchd: inotify on the store (a bundle installed or
 * removed, a patch enabled or disabled), and fanotify open events on the
 * target files of enabled patches, which catch a library being dlopen'ed by
 * a running process at the moment it is opened, with the opener's pid.
 */
#pragma once

#include <stdbool.h>

#include <sys/types.h>

int watch_store_open(void);
/* Drains the inotify queue; returns 1 if anything changed. */
int watch_store_read(int fd);

int watch_opens_open(void);
/* Watches opens of @path (a target file), or only its execs. */
int watch_opens_add(int fd, const char *path, bool exec_only);
/* Drains the fanotify queue, calling @cb with each opener's pid. */
int watch_opens_read(int fd, void (*cb)(pid_t pid, void *arg), void *arg);
