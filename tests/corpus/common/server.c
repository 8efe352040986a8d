/* SPDX-License-Identifier: MIT */
/*
 * The corpus harness: a line server around the case's respond().
 *
 *   server SOCKET
 *
 * Listens on the unix socket SOCKET. For each request line of a connection
 * it writes respond(line) and a newline back. Connections are served one
 * at a time, in the order they come.
 *
 * Every case's tree gets a copy of this file before it is built (see
 * tests/corpus/README.md): a case's src/ holds only the case's own logic.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

/* The case's logic. The answer may point to static storage: it is written
 * out before the next request is read. */
const char *respond(const char *line);

static int write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static int answer(int fd, char *line)
{
	const char *out = respond(line);

	if (write_all(fd, out, strlen(out)) < 0)
		return -1;
	return write_all(fd, "\n", 1);
}

/* Serves one connection until the peer closes it. */
static void serve(int fd)
{
	char buf[4096];
	size_t len = 0;

	for (;;) {
		char *nl;
		ssize_t r = read(fd, buf + len, sizeof(buf) - 1 - len);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return;
		len += (size_t)r;
		buf[len] = '\0';
		while ((nl = memchr(buf, '\n', len))) {
			size_t used = (size_t)(nl - buf) + 1;

			*nl = '\0';
			if (answer(fd, buf) < 0)
				return;
			memmove(buf, buf + used, len - used);
			len -= used;
		}
		if (len == sizeof(buf) - 1)
			return; /* a line too long: drop the connection */
	}
}

int main(int argc, char **argv)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int ls;

	if (argc != 2 || strlen(argv[1]) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "usage: %s SOCKET\n", argv[0]);
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	strcpy(sa.sun_path, argv[1]);
	unlink(sa.sun_path);
	ls = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (ls < 0 || bind(ls, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(ls, 8) < 0) {
		perror(argv[1]);
		return 1;
	}
	for (;;) {
		int fd = accept4(ls, NULL, NULL, SOCK_CLOEXEC);

		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			perror("accept");
			return 1;
		}
		serve(fd);
		close(fd);
	}
}
