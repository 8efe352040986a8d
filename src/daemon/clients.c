/* SPDX-License-Identifier: MIT */
#include "clients.h"

#include <errno.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "clock.h"

/* While every slot is taken, new connections wait in the listen backlog
 * (their connect() blocks) rather than being turned away: a burst of clients
 * is served in turn. */
static void listen_for(struct clients *c, bool on)
{
	struct epoll_event ev = {.events = on ? EPOLLIN : 0, .data.fd = c->lfd};

	if (c->paused == !on)
		return;
	epoll_ctl(c->ep, EPOLL_CTL_MOD, c->lfd, &ev);
	c->paused = !on;
}

static void remove_at(struct clients *c, unsigned i)
{
	c->v[i] = c->v[--c->n];
	listen_for(c, true);
}

static void drop(struct clients *c, unsigned i)
{
	epoll_ctl(c->ep, EPOLL_CTL_DEL, c->v[i].fd, NULL);
	close(c->v[i].fd);
	remove_at(c, i);
}

static void refuse(struct clients *c, unsigned i, const char *why)
{
	int fd = c->v[i].fd;

	epoll_ctl(c->ep, EPOLL_CTL_DEL, fd, NULL);
	remove_at(c, i);
	control_refuse(fd, why);
}

void clients_accept(struct clients *c, int lfd)
{
	c->lfd = lfd;
	for (;;) {
		struct epoll_event ev = {.events = EPOLLIN};
		int fd;

		if (c->n == CLIENTS_MAX) {
			listen_for(c, false);
			return;
		}
		fd = control_accept(lfd);
		if (fd < 0)
			return;
		ev.data.fd = fd;
		if (epoll_ctl(c->ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
			close(fd);
			continue;
		}
		c->v[c->n++] = (struct client){.fd = fd, .deadline_ns = now_ns() + NSEC_PER_SEC};
	}
}

static int find(const struct clients *c, int fd)
{
	for (unsigned i = 0; i < c->n; i++)
		if (c->v[i].fd == fd)
			return (int)i;
	return -1;
}

bool clients_owns(const struct clients *c, int fd)
{
	return find(c, fd) >= 0;
}

void clients_read(struct clients *c, int fd, void (*handle)(const char *line, int fd, void *arg),
		  void *arg)
{
	int i = find(c, fd), r;
	struct client *cl;
	ssize_t n;

	if (i < 0)
		return;
	cl = &c->v[i];
	n = read(fd, cl->buf + cl->got, sizeof(cl->buf) - 1 - cl->got);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		drop(c, (unsigned)i);
		return;
	}
	cl->got += (size_t)n;
	cl->buf[cl->got] = '\0';
	r = control_parse(cl->buf, cl->got, sizeof(cl->buf) - 1);
	if (r == -EAGAIN)
		return;
	if (r < 0) {
		refuse(c, (unsigned)i, r == -EMSGSIZE
					       ? "malformed request: longer than 4096 bytes"
					       : "malformed request: one line of printable ASCII "
						 "expected (status, status-text, reconcile or ping)");
		return;
	}
	epoll_ctl(c->ep, EPOLL_CTL_DEL, fd, NULL);
	handle(cl->buf, fd, arg);
	close(fd);
	remove_at(c, (unsigned)i);
}

int64_t clients_expire(struct clients *c, int64_t next)
{
	int64_t now = now_ns();

	for (unsigned i = 0; i < c->n;) {
		if (c->v[i].deadline_ns <= now) {
			refuse(c, i, "malformed request: no complete line within a second");
			continue;
		}
		if (c->v[i].deadline_ns < next)
			next = c->v[i].deadline_ns;
		i++;
	}
	return next;
}

void clients_close_all(struct clients *c)
{
	while (c->n)
		drop(c, 0);
}
