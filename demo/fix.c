/* SPDX-License-Identifier: MIT */
/*
 * demo/fix.c: the live patch for demo/server.c. It replaces echo_reply()
 * and nothing else: callers, data and the running connections stay as they
 * are, so the fix takes effect on the very next request.
 */
#include <hotpatch/patch.h>
#include <string.h>

#include "demo.h"

HOTPATCH_CVE("CVE-2099-0160");
HOTPATCH_DESCRIPTION("echo_reply: never echo more than the client sent");
HOTPATCH_REPLACE(echo_reply, echo_reply_fixed);

/* Clamp instead of refusing: the callers already send whatever length we
 * return, so well-formed requests see no change at all. */
size_t echo_reply_fixed(const struct request *rq, char *out)
{
	size_t n = rq->len < rq->text_len ? rq->len : rq->text_len;

	memcpy(out, rq->text, n);
	return n;
}
