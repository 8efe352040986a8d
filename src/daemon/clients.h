/* SPDX-License-Identifier: MIT */
/*
 * Control connections being read. A client's request line arrives in its
 * own time; the daemon's loop never waits for it: each connection sits in
 * the epoll set until its line is whole (then it is answered and closed),
 * it is malformed, or its second is up.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "control.h"

#define CLIENTS_MAX 16

struct client {
	int fd;
	int64_t deadline_ns;
	size_t got;
	char buf[CONTROL_REQUEST_MAX];
};

struct clients {
	int ep;
	int lfd;     /* the listening socket */
	bool paused; /* every slot taken: not accepting */
	struct client v[CLIENTS_MAX];
	unsigned n;
};

/* Accepts what is waiting on the listening socket @lfd. */
void clients_accept(struct clients *c, int lfd);
/* Whether @fd is one of the clients. */
bool clients_owns(const struct clients *c, int fd);
/* Reads from client @fd; calls @handle(line, fd) once its request is whole
 * (@handle replies; the connection is closed afterwards). */
void clients_read(struct clients *c, int fd, void (*handle)(const char *line, int fd, void *arg),
		  void *arg);
/* Drops clients whose second is up; returns the next deadline (or @next). */
int64_t clients_expire(struct clients *c, int64_t next);
void clients_close_all(struct clients *c);
