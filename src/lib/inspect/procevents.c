/* SPDX-License-Identifier: MIT */
#include "procevents.h"

#include <errno.h>
#include <linux/cn_proc.h>
#include <linux/connector.h>
#include <linux/netlink.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "clock.h"
#include "error.h"

/* The connector reports to listeners in the initial PID and user
 * namespaces only: in a container it accepts a listener and then stays
 * silent. NSpid lists one pid per nested PID namespace. */
static int in_initial_namespaces(void)
{
	char line[256], uid_map[128] = "";
	FILE *f = fopen("/proc/self/status", "re");
	int fields = 0;

	while (f && fgets(line, sizeof(line), f))
		if (strncmp(line, "NSpid:", 6) == 0)
			for (char *t = strtok(line + 6, " \t\n"); t; t = strtok(NULL, " \t\n"))
				fields++;
	if (f)
		fclose(f);
	f = fopen("/proc/self/uid_map", "re");
	if (f && !fgets(uid_map, sizeof(uid_map), f))
		uid_map[0] = '\0';
	if (f)
		fclose(f);
	if (fields > 1)
		return hp_err(-EOPNOTSUPP, "the process events connector reports only to the host's "
					   "PID namespace, and this process runs in a nested one "
					   "(a container)");
	/* (The initial one maps all 2^32 ids: "0 0 4294967295".) */
	if (uid_map[0] && !strstr(uid_map, " 4294967295"))
		return hp_err(-EOPNOTSUPP, "the process events connector reports only to the host's "
					   "user namespace, and this process runs in another one");
	return 0;
}

static void saw_child(const struct proc_ev *ev, void *arg)
{
	pid_t *child = arg;

	if (ev->pid == *child)
		*child = 0;
}

/* In a nested PID namespace whose /proc is its own, NSpid shows one level
 * only, and the connector still takes the listener: it reports nothing, or,
 * while someone on the host listens, the host's events with the host's
 * pids, which mean other processes here. So it counts as working only if
 * a child of ours that exits at once is reported under its pid. (Events
 * read meanwhile are lost: callers rescan after opening.) */
static int delivers(int fd)
{
	int64_t deadline = now_ns() + NSEC_PER_SEC;
	struct pollfd pfd = {.fd = fd, .events = POLLIN};
	pid_t child = fork(), waiting = child;

	if (child == 0)
		_exit(0);
	if (child < 0)
		return fd; /* (cannot tell: taken as working) */
	waitpid(child, NULL, 0);
	while (waiting && now_ns() < deadline)
		if (poll(&pfd, 1, (int)((deadline - now_ns()) / NSEC_PER_MSEC) + 1) == 1)
			procevents_read(fd, saw_child, &waiting);
	if (!waiting)
		return fd;
	close(fd);
	return hp_err(-EOPNOTSUPP, "the process events connector does not report this namespace's "
				   "processes: it reports to the host's PID namespace, and this "
				   "process runs in a nested one (a container)");
}

int procevents_open(void)
{
	struct sockaddr_nl a = {.nl_family = AF_NETLINK, .nl_groups = CN_IDX_PROC};
	/* nlmsghdr, then cn_msg, then its payload: the operation. (cn_msg
	 * ends in a flexible array, so this is a buffer, not a struct.) */
	char req[NLMSG_SPACE(sizeof(struct cn_msg) + sizeof(enum proc_cn_mcast_op))]
		__attribute__((aligned(NLMSG_ALIGNTO))) = {0};
	struct nlmsghdr *h = (struct nlmsghdr *)req;
	struct cn_msg *m = NLMSG_DATA(h);
	enum proc_cn_mcast_op op = PROC_CN_MCAST_LISTEN;
	int fd, size = 4 << 20;

	fd = in_initial_namespaces();
	if (fd < 0)
		return fd;
	fd = socket(PF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_CONNECTOR);
	if (fd < 0)
		return hp_err(-errno, "cannot open the process events connector: %m");
	/* Room for bursts of execs (an exec storm) between two reads. */
	setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size));
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0)
		goto fail;
	h->nlmsg_len = NLMSG_LENGTH(sizeof(*m) + sizeof(op));
	h->nlmsg_type = NLMSG_DONE;
	m->id.idx = CN_IDX_PROC;
	m->id.val = CN_VAL_PROC;
	m->len = sizeof(op);
	memcpy(m->data, &op, sizeof(op));
	if (send(fd, req, h->nlmsg_len, 0) < 0)
		goto fail;
	return delivers(fd);
fail:
	close(fd);
	return hp_err(-errno, "cannot subscribe to process events: %m");
}

int procevents_read(int fd, void (*cb)(const struct proc_ev *ev, void *arg), void *arg)
{
	char buf[16384] __attribute__((aligned(NLMSG_ALIGNTO)));
	int count = 0;

	for (;; count++) {
		ssize_t n = recv(fd, buf, sizeof(buf), 0);

		if (n < 0 && errno == ENOBUFS) {
			struct proc_ev lost = {.kind = PROC_EV_EXEC};

			cb(&lost, arg); /* events were dropped */
			continue;
		}
		if (n <= 0)
			return n < 0 && errno != EAGAIN ? -errno : count;
		for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, (size_t)n);
		     h = NLMSG_NEXT(h, n)) {
			struct cn_msg *m = NLMSG_DATA(h);
			struct proc_event ev, *e = &ev;
			struct proc_ev out = {0};

			if (h->nlmsg_type != NLMSG_DONE || m->id.idx != CN_IDX_PROC ||
			    m->len < sizeof(ev))
				continue;
			/* The event sits 4 bytes past an 8-byte boundary (after the
			 * 20-byte cn_msg): copy it out rather than read it in place. */
			memcpy(&ev, m->data, sizeof(ev));
			out.t_ns = (int64_t)e->timestamp_ns; /* ktime_get_ns: monotonic */
			if (e->what == PROC_EVENT_EXEC) {
				out.kind = PROC_EV_EXEC;
				out.pid = e->event_data.exec.process_tgid;
			} else if (e->what == PROC_EVENT_FORK &&
				   e->event_data.fork.child_pid == e->event_data.fork.child_tgid) {
				out.kind = PROC_EV_FORK;
				out.pid = e->event_data.fork.child_tgid;
				out.parent = e->event_data.fork.parent_tgid;
			} else if (e->what == PROC_EVENT_EXIT &&
				   e->event_data.exit.process_pid ==
					   e->event_data.exit.process_tgid) {
				out.kind = PROC_EV_EXIT;
				out.pid = e->event_data.exit.process_tgid;
			} else {
				continue;
			}
			cb(&out, arg);
		}
	}
}
