/* SPDX-License-Identifier: MIT */
#include "debref.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "hex.h"

#define PACKAGE_CHARS "abcdefghijklmnopqrstuvwxyz0123456789+-."
#define VERSION_CHARS "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789.+~:-"
#define ARCH_CHARS "abcdefghijklmnopqrstuvwxyz0123456789-"

static int set_word(char *dst, size_t cap, const char *v, size_t n, const char *alphabet)
{
	if (n == 0 || n >= cap || strspn(v, alphabet) < n || v[0] == '-')
		return -EBADMSG;
	memcpy(dst, v, n);
	dst[n] = '\0';
	return 0;
}

static int set_field(struct debref *d, const char *key, size_t klen, const char *v, size_t n,
		     unsigned *seen)
{
	char num[32], num64[65];

#define IS(k) (klen == strlen(k) && memcmp(key, k, klen) == 0)
	if (IS("package") && !(*seen & 1u)) {
		*seen |= 1u;
		return set_word(d->package, sizeof(d->package), v, n, PACKAGE_CHARS);
	}
	if (IS("version") && !(*seen & 2u)) {
		*seen |= 2u;
		return set_word(d->version, sizeof(d->version), v, n, VERSION_CHARS);
	}
	if (IS("from-version") && !(*seen & 4u)) {
		*seen |= 4u;
		return set_word(d->from_version, sizeof(d->from_version), v, n, VERSION_CHARS);
	}
	if (IS("architecture") && !(*seen & 8u)) {
		*seen |= 8u;
		return set_word(d->arch, sizeof(d->arch), v, n, ARCH_CHARS);
	}
	if (IS("sha256") && !(*seen & 16u)) {
		size_t got = 0;

		*seen |= 16u;
		if (set_word(num64, sizeof(num64), v, n, "0123456789abcdef") < 0 || n != 64)
			return -EBADMSG;
		return hex_decode(num64, d->sha256, sizeof(d->sha256), &got) == 0 && got == 32
			       ? 0
			       : -EBADMSG;
	}
	if (IS("size") && !(*seen & 32u)) {
		*seen |= 32u;
		if (set_word(num, sizeof(num), v, n, "0123456789") < 0)
			return -EBADMSG;
		d->size = strtoull(num, NULL, 10);
		return 0;
	}
#undef IS
	return -EBADMSG;
}

int debref_parse(const char *text, size_t len, struct debref *ret)
{
	struct debref d = {0};
	const char *p = text, *end = text + len;
	unsigned seen = 0;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *eq = nl ? memchr(p, '=', (size_t)(nl - p)) : NULL;

		if (!eq || set_field(&d, p, (size_t)(eq - p), eq + 1, (size_t)(nl - eq - 1),
				     &seen) < 0)
			return hp_err(-EBADMSG, "the bundle's package record is malformed; get a "
						"fresh copy of the bundle");
		p = nl + 1;
	}
	if (seen != 63u)
		return hp_err(-EBADMSG, "the bundle's package record is incomplete");
	*ret = d;
	return 0;
}

int debref_format(const struct debref *d, char **ret)
{
	char sha[65];

	hex_encode(d->sha256, sizeof(d->sha256), sha);
	if (asprintf(ret,
		     "package=%s\nversion=%s\nfrom-version=%s\narchitecture=%s\nsha256=%s\n"
		     "size=%" PRIu64 "\n",
		     d->package, d->version, d->from_version, d->arch, sha, d->size) < 0)
		return hp_err(-ENOMEM, "out of memory");
	return 0;
}

void debref_apt_filename(const struct debref *d, char *ret, size_t len)
{
	const char *colon = strchr(d->version, ':');

	if (colon)
		snprintf(ret, len, "%s_%.*s%%3a%s_%s.deb", d->package, (int)(colon - d->version),
			 d->version, colon + 1, d->arch);
	else
		snprintf(ret, len, "%s_%s_%s.deb", d->package, d->version, d->arch);
}
