/* SPDX-License-Identifier: MIT */
#include "watch.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/fanotify.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "error.h"
#include "paths.h"
#include "store.h"

int watch_store_open(void)
{
	int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	const uint32_t mask = IN_CREATE | IN_DELETE | IN_MOVED_TO | IN_MOVED_FROM | IN_CLOSE_WRITE;

	if (fd < 0)
		return hp_err(-errno, "inotify: %m");
	store_ensure_dirs();
	if (inotify_add_watch(fd, paths()->bundles, mask) < 0 ||
	    inotify_add_watch(fd, paths()->enabled, mask) < 0) {
		close(fd);
		return hp_err(-errno, "cannot watch the store: %m");
	}
	return fd;
}

int watch_store_read(int fd)
{
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	int changed = 0;

	while (read(fd, buf, sizeof(buf)) > 0)
		changed = 1;
	return changed;
}

int watch_opens_open(void)
{
	int fd = fanotify_init(FAN_CLASS_NOTIF | FAN_CLOEXEC | FAN_NONBLOCK, O_RDONLY | O_CLOEXEC);

	return fd < 0 ? hp_err(-errno, "fanotify: %m") : fd;
}

int watch_opens_add(int fd, const char *path, bool exec_only)
{
	if (fanotify_mark(fd, FAN_MARK_ADD, exec_only ? FAN_OPEN_EXEC : FAN_OPEN, AT_FDCWD,
			  path) < 0)
		return hp_err(-errno, "cannot watch opens of %s: %m", path);
	return 0;
}

int watch_opens_read(int fd, void (*cb)(pid_t pid, void *arg), void *arg)
{
	char buf[4096] __attribute__((aligned(__alignof__(struct fanotify_event_metadata))));
	ssize_t n;

	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		struct fanotify_event_metadata *m = (struct fanotify_event_metadata *)buf;

		for (; FAN_EVENT_OK(m, n); m = FAN_EVENT_NEXT(m, n)) {
			if (m->fd >= 0)
				close(m->fd);
			if (m->vers == FANOTIFY_METADATA_VERSION && m->pid > 0)
				cb(m->pid, arg);
		}
	}
	return 0;
}
