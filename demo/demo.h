/* SPDX-License-Identifier: MIT */
/*
 * What demo/server.c and demo/fix.c share: the parsed request. The fix is
 * compiled against the same definition as the server, as a real patch would
 * be built from the project's own headers.
 */
#ifndef DEMO_H
#define DEMO_H

#include <stddef.h>

#define REQ_MAX 128 /* one request line, newline included */
#define KEY_MAX 64  /* the secret that sits right after it in memory */
/* Largest <len> the parser accepts. Small enough that even the bug reads
 * only inside struct conn (server.c), so the demo leaks but never crashes. */
#define ECHO_MAX 160

struct request {
	size_t len;      /* <len> as the client claimed it */
	size_t text_len; /* what the client really sent */
	const char *text;
	char buf[REQ_MAX]; /* the raw line; text points into it */
};

size_t echo_reply(const struct request *rq, char *out);

#endif
