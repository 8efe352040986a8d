/* SPDX-License-Identifier: MIT */
#include "control.h"

#include <errno.h>
#include <poll.h>
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
	/* Root only: the mode, and the peer check on every connection. */
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || chmod(path, 0600) < 0 ||
	    listen(fd, 16) < 0) {
		close(fd);
		return hp_err(-errno, "cannot listen on %s: %m", path);
	}
	return fd;
}

void control_reply(int fd, const char *json)
{
	if (write(fd, json, strlen(json)) < 0 || write(fd, "\n", 1) < 0)
		return;
}

static int refuse(int fd, const char *why)
{
	char msg[256];

	snprintf(msg, sizeof(msg), "{\"error\":\"%s\"}", why);
	control_reply(fd, msg);
	close(fd);
	return -1;
}

int control_accept(int lfd, char *buf, size_t len)
{
	struct ucred cred;
	socklen_t clen = sizeof(cred);
	struct pollfd p;
	size_t got = 0;
	int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);

	if (fd < 0)
		return -1;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &clen) < 0 || cred.uid != 0)
		return refuse(fd, "permission denied: the control socket is for root only");
	p = (struct pollfd){.fd = fd, .events = POLLIN};
	/* A client gets a second to send its line; the loop does not wait on it. */
	while (got < len - 1 && poll(&p, 1, 1000) == 1) {
		ssize_t n = read(fd, buf + got, len - 1 - got);

		if (n <= 0)
			break;
		got += (size_t)n;
		if (memchr(buf, '\n', got))
			break;
	}
	buf[got] = '\0';
	if (!memchr(buf, '\n', got))
		return refuse(fd, "malformed request: one line ending in a newline, at most 4096 bytes");
	buf[strcspn(buf, "\n")] = '\0';
	return fd;
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
