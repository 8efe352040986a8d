/* SPDX-License-Identifier: MIT */
#include "fileattrs.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "error.h"
#include "macro.h"

/* An attribute value is at most 64 KiB (XATTR_SIZE_MAX); a list too. */
#define XATTR_MAX 65536

static int copy_one(int src_fd, int dst_fd, const char *name)
{
	_cleanup_free_ char *value = malloc(XATTR_MAX);
	ssize_t n;

	if (!value)
		return hp_err(-ENOMEM, "out of memory");
	n = fgetxattr(src_fd, name, value, XATTR_MAX);
	if (n < 0)
		return hp_err(-errno, "cannot read the attribute %s: %m", name);
	if (fsetxattr(dst_fd, name, value, (size_t)n, 0) < 0)
		return hp_err(-errno, "cannot copy the attribute %s: %m", name);
	return 0;
}

static int copy_xattrs(int src_fd, int dst_fd)
{
	_cleanup_free_ char *names = malloc(XATTR_MAX);
	ssize_t len;

	if (!names)
		return hp_err(-ENOMEM, "out of memory");
	len = flistxattr(src_fd, names, XATTR_MAX);
	if (len < 0 && (errno == ENOTSUP || errno == EOPNOTSUPP))
		return 0; /* a file system without xattrs: nothing to carry */
	if (len < 0)
		return hp_err(-errno, "cannot list the file's extended attributes: %m");
	for (char *p = names; p < names + len; p += strlen(p) + 1) {
		int r = copy_one(src_fd, dst_fd, p);

		if (r < 0)
			return r;
	}
	return 0;
}

int fileattrs_copy(int src_fd, int dst_fd)
{
	struct stat st;

	if (fstat(src_fd, &st) < 0)
		return hp_err(-errno, "cannot stat the file: %m");
	/* The order matters: chown clears the set-id bits and drops
	 * security.capability, so the owner goes first, then the mode, then
	 * the attributes. */
	if (fchown(dst_fd, st.st_uid, st.st_gid) < 0)
		return hp_err(-errno, "cannot give the new file owner %u:%u: %m", st.st_uid,
			      st.st_gid);
	if (fchmod(dst_fd, st.st_mode & 07777) < 0)
		return hp_err(-errno, "cannot give the new file mode %04o: %m", st.st_mode & 07777);
	return copy_xattrs(src_fd, dst_fd);
}
