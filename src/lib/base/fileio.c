/* SPDX-License-Identifier: MIT */
#include "fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"
#include "macro.h"

int file_read_all(const char *path, size_t max, uint8_t **ret, size_t *ret_len)
{
	_cleanup_close_ int fd = -1;
	_cleanup_free_ uint8_t *data = NULL;
	struct stat st;
	size_t got = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return hp_err(-errno, "cannot open %s: %m", path);
	if (fstat(fd, &st) < 0)
		return hp_err(-errno, "cannot stat %s: %m", path);
	if (!S_ISREG(st.st_mode))
		return hp_err(-EINVAL, "%s is not a regular file", path);
	if ((uint64_t)st.st_size > max)
		return hp_err(-EFBIG, "%s is too large (%lld bytes, at most %zu)", path,
			      (long long)st.st_size, max);
	data = malloc((size_t)st.st_size + 1);
	if (!data)
		return hp_err(-ENOMEM, "out of memory");
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, data + got, (size_t)st.st_size - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return hp_err(-errno, "cannot read %s: %m", path);
		if (n == 0)
			break;
		got += (size_t)n;
	}
	data[got] = '\0';
	*ret = TAKE_PTR(data);
	*ret_len = got;
	return 0;
}

int write_full(int fd, const void *data, size_t len)
{
	const uint8_t *p = data;

	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int fsync_dir_of(const char *path)
{
	_cleanup_free_ char *copy = strdup(path);
	_cleanup_close_ int dfd = -1;

	if (!copy)
		return -ENOMEM;
	dfd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return -errno;
	return fsync(dfd) < 0 ? -errno : 0;
}

static int write_atomic(const char *path, const void *data, size_t len, unsigned mode, bool durable)
{
	_cleanup_free_ char *tmp = NULL;
	int fd, r;

	if (asprintf(&tmp, "%s.tmp.%d", path, getpid()) < 0)
		return hp_err(-ENOMEM, "out of memory");
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0)
		return hp_err(-errno, "cannot create %s: %m", tmp);
	r = write_full(fd, data, len);
	if (r == 0 && fchmod(fd, mode) < 0)
		r = -errno;
	if (r == 0 && durable && fsync(fd) < 0)
		r = -errno;
	if (close(fd) < 0 && r == 0)
		r = -errno;
	if (r == 0 && rename(tmp, path) < 0)
		r = -errno;
	if (r < 0) {
		unlink(tmp);
		return hp_err(r, "cannot write %s: %s", path, strerror(-r));
	}
	if (!durable)
		return 0;
	r = fsync_dir_of(path);
	if (r < 0)
		return hp_err(r, "cannot sync the directory of %s: %s", path, strerror(-r));
	return 0;
}

int file_write_atomic(const char *path, const void *data, size_t len, unsigned mode)
{
	return write_atomic(path, data, len, mode, true);
}

int file_write_cached(const char *path, const void *data, size_t len, unsigned mode)
{
	return write_atomic(path, data, len, mode, false);
}

int mkdir_p(const char *path, unsigned mode)
{
	_cleanup_free_ char *p = NULL;

	/* Usually there already: one system call instead of one per level
	 * (every apply ensures the store's five directories). */
	if (mkdir(path, mode) == 0 || errno == EEXIST)
		return 0;
	p = strdup(path);
	if (!p)
		return hp_err(-ENOMEM, "out of memory");
	for (char *s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, mode) < 0 && errno != EEXIST)
			return hp_err(-errno, "cannot create directory %s: %m", p);
		*s = '/';
	}
	if (mkdir(p, mode) < 0 && errno != EEXIST)
		return hp_err(-errno, "cannot create directory %s: %m", p);
	return 0;
}
