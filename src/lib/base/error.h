/* SPDX-License-Identifier: MIT */
/*
 * Error reporting for the library.
 *
 * Every fallible function returns a negative errno. The human-readable reason
 * (what went wrong and what to do about it) is kept in a per-thread buffer so
 * that callers can print one line without threading a message parameter
 * through every layer. Library code never prints.
 */
#pragma once

#include <errno.h>
#include <stdarg.h>

#define HP_ERR_MAX 512

/* Record a message for @err and return @err, so callers can write
 * `return hp_err(-EINVAL, "...")`. @err must be negative. */
int hp_err(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Like hp_err(), but prefixes the message already recorded (if any) with
 * context, e.g. "process 42: " + "inner reason". */
int hp_err_prefix(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The last recorded message of this thread, or a generic one from @err. */
const char *hp_err_msg(int err);

void hp_err_clear(void);
