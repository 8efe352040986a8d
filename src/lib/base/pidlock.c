/* SPDX-License-Identifier: MIT */
#include "pidlock.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "clock.h"
#include "error.h"

int pidlock_take(pid_t pid, int64_t deadline_ns)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	socklen_t len;
	int fd;

	/* sun_path[0] == '\0': the abstract namespace, no file involved. */
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 +
			  (size_t)snprintf(sa.sun_path + 1, sizeof(sa.sun_path) - 1,
					   "hotpatch/pid/%d", pid));
	for (;;) {
		fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		if (fd < 0)
			return hp_err(-errno, "cannot create a socket: %m");
		if (bind(fd, (struct sockaddr *)&sa, len) == 0)
			return fd;
		close(fd);
		if (errno != EADDRINUSE)
			return hp_err(-errno, "cannot lock process %d: %m", pid);
		if (deadline_passed(deadline_ns))
			return hp_err(-ETIMEDOUT, "another hotpatch operation on process %d is still "
						  "running; retry when it is done",
				      pid);
		sleep_ns(2 * NSEC_PER_MSEC);
	}
}

void pidlock_release(int fd)
{
	if (fd >= 0)
		close(fd);
}
