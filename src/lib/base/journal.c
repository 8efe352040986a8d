/* SPDX-License-Identifier: MIT */
#include "journal.h"

#include <endian.h>
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "buf.h"
#include "macro.h"

#define JOURNAL_SOCKET "/run/systemd/journal/socket"

/* A value with a newline goes as KEY, newline, its length (64-bit little
 * endian) and its bytes; any other as the KEY=VALUE line itself. */
static void put_field(struct buf *b, const struct iovec *f)
{
	const char *p = f->iov_base, *eq = memchr(p, '=', f->iov_len);
	size_t klen, vlen;
	uint64_t le;

	if (!eq || !memchr(eq, '\n', f->iov_len - (size_t)(eq - p))) {
		buf_put(b, p, f->iov_len);
		buf_put(b, "\n", 1);
		return;
	}
	klen = (size_t)(eq - p);
	vlen = f->iov_len - klen - 1;
	le = htole64((uint64_t)vlen);
	buf_put(b, p, klen);
	buf_put(b, "\n", 1);
	buf_put(b, &le, sizeof(le));
	buf_put(b, eq + 1, vlen);
	buf_put(b, "\n", 1);
}

int journal_send(const struct iovec *fields, size_t n)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX, .sun_path = JOURNAL_SOCKET};
	struct buf b = {0};
	int fd, r = 0;

	for (size_t i = 0; i < n; i++)
		put_field(&b, &fields[i]);
	if (b.oom) {
		buf_free(&b);
		return -ENOMEM;
	}
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		r = -errno;
	else if (sendto(fd, b.data, b.len, MSG_NOSIGNAL, (struct sockaddr *)&a, sizeof(a)) < 0)
		r = -errno;
	if (fd >= 0)
		close(fd);
	buf_free(&b);
	return r;
}
