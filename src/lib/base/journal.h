/* SPDX-License-Identifier: MIT */
/*
 * An entry for the systemd journal, sent with its native protocol (a
 * datagram of KEY=VALUE fields to /run/systemd/journal/socket; see
 * systemd's JOURNAL_NATIVE_PROTOCOL). Written here rather than taken from
 * libsystemd: linking libsystemd loads its own compression and crypto
 * libraries into every run of the CLI, whose start is kept lean
 * (lazylib.h).
 */
#pragma once

#include <stddef.h>
#include <sys/uio.h>

/* @fields: "KEY=VALUE" each (a value may hold newlines). 0, or a negative
 * errno: -ENOENT (or -ECONNREFUSED) where no journald listens. */
int journal_send(const struct iovec *fields, size_t n);
