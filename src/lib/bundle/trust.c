/* SPDX-License-Identifier: MIT */
#include "trust.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"
#include "macro.h"
#include "paths.h"

#define KEYS_MAX 256
#define KEY_FILE_MAX 4096

int trust_check_file(int fd, const char *path)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return hp_err(-errno, "cannot stat %s: %m", path);
	if (st.st_uid != 0)
		return hp_err(-EPERM, "trusted key %s is not owned by root (uid %u); refusing it: "
				      "chown root %s",
			      path, (unsigned)st.st_uid, path);
	if (st.st_mode & (S_IWGRP | S_IWOTH))
		return hp_err(-EPERM, "trusted key %s is writable by group or others (mode %04o); "
				      "refusing it: chmod go-w %s",
			      path, (unsigned)(st.st_mode & 07777), path);
	return 0;
}

static int read_key(int dfd, const char *name, struct minisign_pub *ret)
{
	char path[4096], text[KEY_FILE_MAX];
	ssize_t n;
	int fd, r;

	snprintf(path, sizeof(path), "%s/%s", paths()->trusted, name);
	fd = openat(dfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return hp_err(-errno, "cannot open trusted key %s: %m", path);
	r = trust_check_file(fd, path);
	if (r == 0) {
		n = read(fd, text, sizeof(text));
		if (n < 0 || n == sizeof(text))
			r = hp_err(-EBADMSG, "trusted key %s is unreadable or too large", path);
		else
			r = minisign_parse_pub(text, (size_t)n, ret);
		if (r < 0)
			r = hp_err_prefix(r, "%s: ", path);
	}
	close(fd);
	return r;
}

int trust_load_keys(struct minisign_pub **ret, size_t *ret_n)
{
	struct minisign_pub *v = NULL;
	size_t n = 0;
	struct dirent *de;
	DIR *d;
	int r = 0;

	d = opendir(paths()->trusted);
	if (!d) {
		*ret = NULL;
		*ret_n = 0;
		return 0;
	}
	r = trust_check_file(dirfd(d), paths()->trusted);
	while (r == 0 && (de = readdir(d))) {
		size_t len = strlen(de->d_name);

		if (len < 5 || strcmp(de->d_name + len - 4, ".pub") != 0)
			continue;
		if (n == KEYS_MAX) {
			r = hp_err(-E2BIG, "too many trusted keys in %s", paths()->trusted);
			break;
		}
		if (!(n % 16)) {
			struct minisign_pub *nv = realloc(v, (n + 16) * sizeof(*nv));

			if (!nv) {
				r = hp_err(-ENOMEM, "out of memory");
				break;
			}
			v = nv;
		}
		r = read_key(dirfd(d), de->d_name, &v[n]);
		if (r == 0)
			n++;
	}
	closedir(d);
	if (r < 0) {
		free(v);
		return r;
	}
	*ret = v;
	*ret_n = n;
	return 0;
}

int trust_verify_bundle(const uint8_t *payload, size_t len, const uint8_t *sig, size_t siglen,
			char ret_signer[MINISIGN_KEYID_HEX_LEN + 1], void *arg)
{
	struct minisign_pub *keys = NULL;
	struct minisign_sig s;
	char hex[MINISIGN_KEYID_HEX_LEN + 1];
	size_t n = 0;
	int r;

	(void)arg;
	r = minisign_parse_sig((const char *)sig, siglen, &s);
	if (r < 0)
		return hp_err(-EBADMSG, "the bundle's signature is malformed; re-sign the bundle");
	minisign_keyid_hex(s.keyid, hex);
	r = trust_load_keys(&keys, &n);
	if (r < 0)
		return r;
	r = -ENOKEY;
	for (size_t i = 0; i < n && r == -ENOKEY; i++) {
		int v = minisign_verify(&keys[i], &s, payload, len);

		if (v != -EKEYREJECTED)
			r = v;
	}
	free(keys);
	if (r == -ENOKEY)
		return hp_err(-ENOKEY, "the bundle is signed by key %s, which is not trusted; add "
				       "the signer's public key to %s if you trust it",
			      hex, paths()->trusted);
	if (r < 0)
		return hp_err(-EKEYREJECTED, "the bundle's signature does not verify with trusted "
					     "key %s: the bundle was modified after signing or is "
					     "corrupt",
			      hex);
	snprintf(ret_signer, 17, "%s", hex);
	return 0;
}
