/* SPDX-License-Identifier: MIT */
#include "control.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "error.h"
#include "fileio.h"

int control_open(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	char dir[sizeof(sa.sun_path)], *slash;
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path))
		return hp_err(-ENAMETOOLONG, "control socket path too long: %s", path);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash) {
		*slash = '\0';
		mkdir_p(dir, 0755);
	}
	unlink(path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return hp_err(-errno, "socket: %m");
	/* Root only: the mode, and the peer check on every connection. A
	 * long backlog: a burst of clients waits there while the daemon's
	 * slots are full (clients.c) instead of failing to connect. */
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || chmod(path, 0600) < 0 ||
	    listen(fd, SOMAXCONN) < 0) {
		close(fd);
		return hp_err(-errno, "cannot listen on %s: %m", path);
	}
	return fd;
}

/* send() with MSG_NOSIGNAL: a client that hung up before its answer must
 * cost the daemon an EPIPE, not a SIGPIPE that kills it. */
static int send_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t k = send(fd, p, n, MSG_NOSIGNAL);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return -errno;
		p += k;
		n -= (size_t)k;
	}
	return 0;
}

void control_reply(int fd, const char *json)
{
	struct timeval tv = {.tv_sec = 1};
	int fl = fcntl(fd, F_GETFL);

	/* A reply can be larger than the socket buffer; a client that stops
	 * reading gets a second, not the daemon's loop. */
	if (fl >= 0)
		fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (send_all(fd, json, strlen(json)) == 0)
		send_all(fd, "\n", 1);
}

void control_refuse(int fd, const char *why)
{
	char msg[256];

	snprintf(msg, sizeof(msg), "{\"error\":\"%s\"}", why);
	control_reply(fd, msg);
	close(fd);
}

int control_accept(int lfd)
{
	struct ucred cred;
	socklen_t clen = sizeof(cred);
	int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

	if (fd < 0)
		return -1;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &clen) < 0 || cred.uid != 0) {
		control_refuse(fd, "permission denied: the control socket is for root only");
		return -1;
	}
	return fd;
}

int control_parse(char *buf, size_t got, size_t cap)
{
	char *nl = memchr(buf, '\n', got);

	if (!nl)
		return got >= cap ? -EMSGSIZE : -EAGAIN;
	*nl = '\0';
	if (strlen(buf) != (size_t)(nl - buf))
		return -EBADMSG; /* a NUL inside the line */
	for (const char *c = buf; *c; c++)
		if ((unsigned char)*c < 0x20 || (unsigned char)*c > 0x7e)
			return -EBADMSG;
	return 0;
}

int control_request(const char *path, const char *request, char **ret_reply)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	size_t cap = 65536, got = 0;
	char *reply;
	int fd;

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    write(fd, request, strlen(request)) < 0 || write(fd, "\n", 1) < 0) {
		int r = -errno;

		close(fd);
		return r;
	}
	reply = malloc(cap);
	while (reply) {
		ssize_t n = read(fd, reply + got, cap - 1 - got);
		char *nv;

		if (n <= 0)
			break;
		got += (size_t)n;
		if (got < cap - 1)
			continue;
		nv = realloc(reply, cap *= 2);
		if (!nv) {
			free(reply);
			reply = NULL;
		} else {
			reply = nv;
		}
	}
	close(fd);
	if (!reply)
		return -ENOMEM;
	reply[got] = '\0';
	*ret_reply = reply;
	return 0;
}
