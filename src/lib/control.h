/* SPDX-License-Identifier: MIT */
/*
 * The control socket, run/hotpatch/control.sock: a unix stream socket, mode
 * 0600, and every peer checked with SO_PEERCRED (root only). One request
 * line per connection, one JSON reply line, then the daemon closes:
 *   status     -> {"patches":[...]} (view.h)
 *   reconcile  -> {"ok":true} after re-reading the store
 *   ping       -> {"ok":true,"pid":N}
 * Anything else, a request over 4096 bytes or a peer that is not root:
 * {"error":"..."}. Documented in docs/daemon.md.
 */
#pragma once

#include <stddef.h>

#define CONTROL_REQUEST_MAX 4096

int control_open(const char *path);
/* Accepts one connection and reads its request line into @buf. Returns the
 * connection fd (reply, then close it), or -1 when the request was refused
 * (and answered already). */
int control_accept(int lfd, char *buf, size_t len);
void control_reply(int fd, const char *json);
/* Client side, for the CLI: one request, its reply (caller frees). -ENOENT
 * or -ECONNREFUSED when no daemon runs. */
int control_request(const char *path, const char *request, char **ret_reply);
