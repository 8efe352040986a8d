/* SPDX-License-Identifier: MIT */
/*
 * The control socket, run/hotpatch/control.sock: a unix stream socket, mode
 * 0600, and every peer checked with SO_PEERCRED (root only). One request
 * line per connection, one JSON reply line, then the daemon closes:
 *   status     -> {"patches":[...]} (view.h)
 *   reconcile  -> {"ok":true} after re-reading the store
 *   ping       -> {"ok":true,"pid":N}
 * Anything else, a request over 4096 bytes, bytes that are not printable
 * ASCII, a request not sent within a second, or a peer that is not root:
 * {"error":"..."}. Documented in docs/daemon.md.
 */
#pragma once

#include <stddef.h>

#define CONTROL_REQUEST_MAX 4096

int control_open(const char *path);
/* Accepts one connection (non-blocking) and checks its peer. Returns its fd,
 * or -1 when there was none or it was refused (and answered already). */
int control_accept(int lfd);
/* Is @buf (@got bytes read so far, room for @cap) a whole request? 0 when
 * it is (the line, NUL-terminated, in @buf), -EAGAIN to read more,
 * -EMSGSIZE or -EBADMSG for a malformed one. */
int control_parse(char *buf, size_t got, size_t cap);
void control_reply(int fd, const char *json);
/* Answers {"error": @why} and closes. */
void control_refuse(int fd, const char *why);
/* Client side, for the CLI: one request, its reply (caller frees). -ENOENT
 * or -ECONNREFUSED when no daemon runs. */
int control_request(const char *path, const char *request, char **ret_reply);
