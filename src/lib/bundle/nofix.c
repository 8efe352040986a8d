/* SPDX-License-Identifier: MIT */
/* A no-fix record: the build host's "nothing to patch" as data (nofix.h). */
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"
#include "macro.h"
#include "nofix.h"

#define NOFIX_MAGIC "hotpatch-no-fix\t1"
#define NOFIX_SIZE_MAX (1u << 20)

void nofix_encode(const struct nofix *n, struct buf *out)
{
	buf_printf(out, NOFIX_MAGIC "\nbuild-id\t%s\ntarget\t%s\npackage\t%s\nfrom\t%s\nto\t%s\n"
		   "created\t%" PRIu64 "\n\n",
		   n->build_id, n->target, n->package, n->from, n->to, n->created);
	verdict_encode(&n->v, out);
}

/* One "key\tvalue" header line into its field of @n. */
static int header_line(struct nofix *n, const char *line)
{
	static const struct {
		const char *key;
		size_t off, size;
	} fields[] = {
		{"build-id", offsetof(struct nofix, build_id), sizeof(n->build_id)},
		{"target", offsetof(struct nofix, target), sizeof(n->target)},
		{"package", offsetof(struct nofix, package), sizeof(n->package)},
		{"from", offsetof(struct nofix, from), sizeof(n->from)},
		{"to", offsetof(struct nofix, to), sizeof(n->to)},
	};
	const char *tab = strchr(line, '\t');
	size_t klen = tab ? (size_t)(tab - line) : 0;

	if (!tab || !tab[1])
		return -EBADMSG;
	if (klen == 7 && strncmp(line, "created", 7) == 0) {
		char *end;

		n->created = strtoull(tab + 1, &end, 10);
		return *end ? -EBADMSG : 0;
	}
	for (size_t i = 0; i < ARRAY_SIZE(fields); i++)
		if (strlen(fields[i].key) == klen && strncmp(line, fields[i].key, klen) == 0) {
			if (strlen(tab + 1) >= fields[i].size)
				return -EBADMSG;
			memcpy((char *)n + fields[i].off, tab + 1, strlen(tab + 1) + 1);
			return 0;
		}
	return -EBADMSG;
}

int nofix_decode(const char *text, size_t len, struct nofix *ret)
{
	_cleanup_free_ char *copy = strndup(text, len);
	struct nofix n = {0};
	char *line, *next;
	unsigned lineno = 1;
	int r;

	*ret = (struct nofix){0};
	if (!copy)
		return hp_err(-ENOMEM, "out of memory");
	if (strncmp(copy, NOFIX_MAGIC "\n", sizeof(NOFIX_MAGIC)) != 0)
		return hp_err(-EBADMSG, "not a no-fix record (it does not start with \"%s\")",
			      "hotpatch-no-fix");
	for (line = copy + sizeof(NOFIX_MAGIC); *line != '\n'; line = next) {
		next = strchr(line, '\n');
		if (!next)
			return hp_err(-EBADMSG, "no-fix record: the header ends without an empty "
						"line");
		*next++ = '\0';
		lineno++;
		if (header_line(&n, line) < 0)
			return hp_err(-EBADMSG, "no-fix record, line %u: malformed \"%s\"", lineno,
				      line);
	}
	if (!n.build_id[0] || !n.package[0] || !n.from[0] || !n.to[0])
		return hp_err(-EBADMSG, "no-fix record: build-id, package, from and to are "
					"required");
	line++;
	r = verdict_decode(line, strlen(line), &n.v);
	if (r < 0)
		return hp_err(r, "no-fix record: its fixes' verdicts are malformed");
	*ret = n;
	return 0;
}

/* @fd's whole content, which must be a regular file only root can write:
 * who can write a record can hide a needed restart. */
static int read_root_file(int fd, const char *path, char **ret, size_t *ret_len)
{
	struct stat st;
	char *data;
	size_t len = 0;

	if (fstat(fd, &st) < 0)
		return hp_err(-errno, "%s: %m", path);
	if (!S_ISREG(st.st_mode) || st.st_uid != 0 || (st.st_mode & 022))
		return hp_err(-EPERM, "%s is not a regular file only root can write: ignored",
			      path);
	if (st.st_size > NOFIX_SIZE_MAX)
		return hp_err(-EFBIG, "%s is larger than a no-fix record can be", path);
	data = malloc((size_t)st.st_size + 1);
	if (!data)
		return hp_err(-ENOMEM, "out of memory");
	while (len < (size_t)st.st_size) {
		ssize_t n = read(fd, data + len, (size_t)st.st_size - len);

		if (n <= 0) {
			free(data);
			return hp_err(n < 0 ? -errno : -EIO, "reading %s: %s", path,
				      n < 0 ? strerror(errno) : "it shrank");
		}
		len += (size_t)n;
	}
	*ret = data;
	*ret_len = len;
	return 0;
}

int nofix_find(const char *dir, const char *build_id, struct nofix *ret)
{
	char path[PATH_MAX];
	_cleanup_free_ char *data = NULL;
	size_t len = 0;
	int fd, r;

	*ret = (struct nofix){0};
	if (!*build_id || strspn(build_id, "0123456789abcdef") != strlen(build_id))
		return hp_err(-EINVAL, "bad build-id \"%s\"", build_id);
	snprintf(path, sizeof(path), "%s/%s", dir, build_id);
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return hp_err(-errno, "%s: %m", path);
	r = read_root_file(fd, path, &data, &len);
	close(fd);
	if (r < 0)
		return r;
	r = nofix_decode(data, len, ret);
	if (r < 0)
		return hp_err_prefix(r, "%s: ", path);
	if (strcmp(ret->build_id, build_id) != 0) {
		nofix_free(ret);
		return hp_err(-EBADMSG, "%s is about another build than the one it is named "
					"after: ignored", path);
	}
	return 0;
}

void nofix_free(struct nofix *n)
{
	verdict_free(&n->v);
	*n = (struct nofix){0};
}
