/* SPDX-License-Identifier: MIT */
#include "blockedcall.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* The first @len - 1 bytes of /proc/TID/@name, NUL-terminated: their
 * length, or a negative errno. */
static ssize_t read_task_file(pid_t tid, const char *name, char *buf, size_t len)
{
	char path[64];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/%s", tid, name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	if (n < 0)
		n = -errno;
	close(fd);
	if (n >= 0)
		buf[n] = '\0';
	return n;
}

int blocked_call_read(pid_t tid, struct blocked_call *ret)
{
	char buf[256];
	uint64_t sp;
	ssize_t n = read_task_file(tid, "syscall", buf, sizeof(buf));

	if (n < 0)
		return (int)n;
	/* "NR ARG0 ... ARG5 SP PC" while blocked in a call; "-1 SP PC" when
	 * blocked outside one, "running" when not blocked at all. */
	if (sscanf(buf, "%ld %" SCNx64 " %" SCNx64 " %" SCNx64 " %" SCNx64 " %" SCNx64
			" %" SCNx64 " %" SCNx64 " %" SCNx64,
		   &ret->nr, &ret->args[0], &ret->args[1], &ret->args[2], &ret->args[3],
		   &ret->args[4], &ret->args[5], &sp, &ret->pc) != 9 ||
	    ret->nr < 0)
		return -EAGAIN;
	return 0;
}

/* The hexadecimal mask after "@key:" in a status file into @ret. */
static bool status_mask(const char *status, const char *key, uint64_t *ret)
{
	const char *p = strstr(status, key);

	return p && sscanf(p + strlen(key), " %" SCNx64, ret) == 1;
}

bool blocked_signal_pending(pid_t tid)
{
	char buf[4096];
	uint64_t own, shared, blocked;

	if (read_task_file(tid, "status", buf, sizeof(buf)) <= 0 ||
	    !status_mask(buf, "\nSigPnd:", &own) || !status_mask(buf, "\nShdPnd:", &shared) ||
	    !status_mask(buf, "\nSigBlk:", &blocked))
		return true;
	return ((own | shared) & ~blocked) != 0;
}
