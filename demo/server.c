/* SPDX-License-Identifier: MIT */
/*
 * demo/server.c: a tiny TCP echo service with a Heartbleed-style bug.
 *
 *   demo-server [PORT]      (PORT 0 or none: the kernel picks a free one)
 *
 * Protocol, one request per line, any number per connection:
 *   ECHO <len> <text>   ->  "OK <n>\n" followed by n bytes
 * The reply is meant to be <text>, but echo_reply() trusts <len>: ask for
 * more than you sent and you get the memory after the request buffer, where
 * this connection keeps its API key. demo/fix.c replaces echo_reply() in the
 * running process.
 *
 * One thread accepts, one thread serves each connection.
 */
#define _GNU_SOURCE /* accept4 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "demo.h"

static const char api_key[] = "SECRET-API-KEY=hp-demo-7f3a9c1e5b2d4086";

/* The request buffer and the key are neighbours on purpose: that is what
 * makes the over-read leak something worth stealing (OpenSSL's heap put
 * private keys near the heartbeat buffer in the same way). */
struct conn {
	struct request rq;
	char key[KEY_MAX]; /* credential for the upstream service */
	int fd;
};

/*
 * THE BUG: copies rq->len bytes without checking them against
 * rq->text_len. noipa keeps it a real, out-of-line function with its
 * own symbol (no inlining, no clones), so a patch can replace it.
 */
__attribute__((noipa)) size_t echo_reply(const struct request *rq, char *out)
{
	memcpy(out, rq->text, rq->len);
	return rq->len;
}

/* Fill @rq from the line in rq->buf. Returns an error text, or NULL. */
static const char *parse_request(struct request *rq)
{
	char *p = rq->buf, *end;

	p[strcspn(p, "\r\n")] = '\0';
	if (strncmp(p, "ECHO ", 5) != 0)
		return "unknown command";
	rq->len = strtoul(p + 5, &end, 10);
	if (end == p + 5 || *end != ' ')
		return "usage: ECHO <len> <text>";
	if (rq->len > ECHO_MAX)
		return "len too large";
	rq->text = end + 1;
	rq->text_len = strlen(rq->text);
	return NULL;
}

static int send_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);

		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static void *serve(void *arg)
{
	struct conn *c = arg;
	FILE *in = fdopen(c->fd, "r");
	char reply[32 + ECHO_MAX];

	if (!in)
		goto out;
	for (;;) {
		const char *err;
		size_t hdr, n;

		/* Cleared so the leak is easy to read; Heartbleed leaked
		 * whatever was left over instead. */
		memset(c->rq.buf, 0, sizeof(c->rq.buf));
		if (!fgets(c->rq.buf, sizeof(c->rq.buf), in))
			break;
		err = parse_request(&c->rq);
		if (err) {
			hdr = (size_t)snprintf(reply, sizeof(reply), "ERR %s\n", err);
			n = 0;
		} else {
			n = echo_reply(&c->rq, reply + 32);
			hdr = (size_t)snprintf(reply, 32, "OK %zu\n", n);
			memmove(reply + hdr, reply + 32, n);
		}
		if (send_all(c->fd, reply, hdr + n) < 0)
			break;
	}
out:
	if (in)
		fclose(in);
	else
		close(c->fd);
	free(c);
	return NULL;
}

int main(int argc, char **argv)
{
	struct sockaddr_in sa = {.sin_family = AF_INET};
	socklen_t salen = sizeof(sa);
	int one = 1, lfd;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sa.sin_port = htons(argc > 1 ? (unsigned short)atoi(argv[1]) : 0);
	lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (lfd < 0 || setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(lfd, 16) < 0 ||
	    getsockname(lfd, (struct sockaddr *)&sa, &salen) < 0) {
		perror("demo-server");
		return 1;
	}
	/* The demo script waits for this line: from now on connects succeed. */
	printf("listening on 127.0.0.1:%u\n", ntohs(sa.sin_port));
	fflush(stdout);

	for (;;) {
		struct conn *c = calloc(1, sizeof(*c));
		pthread_t t;

		if (!c)
			return 1;
		memcpy(c->key, api_key, sizeof(api_key));
		c->fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		if (c->fd < 0 || pthread_create(&t, NULL, serve, c) != 0) {
			if (c->fd >= 0)
				close(c->fd);
			free(c);
			continue;
		}
		pthread_detach(t);
	}
}
