/* SPDX-License-Identifier: MIT */
#include "changelog.h"

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "debversion.h"
#include "error.h"

/* A CVE id is at most this long ("CVE-" 4 digits "-" up to 19 digits). */
#define CVE_ID_MAX 32

static bool have(const struct changelog_cves *c, const char *id)
{
	for (size_t i = 0; i < c->n; i++)
		if (strcmp(c->ids[i], id) == 0)
			return true;
	return false;
}

static int add(struct changelog_cves *c, const char *id)
{
	char **nv;

	if (have(c, id))
		return 0;
	nv = realloc(c->ids, (c->n + 1) * sizeof(*nv));
	if (!nv)
		return hp_err(-ENOMEM, "out of memory");
	c->ids = nv;
	nv[c->n] = strdup(id);
	if (!nv[c->n])
		return hp_err(-ENOMEM, "out of memory");
	c->n++;
	return 0;
}

/* The CVE id starting at @p (CVE-NNNN-NNNN...), copied to @out; its length,
 * or 0 when @p does not start one. */
static size_t cve_at(const char *p, const char *end, char out[CVE_ID_MAX])
{
	size_t n = 4, digits = 0;

	if (end - p < 13 || strncmp(p, "CVE-", 4) != 0)
		return 0;
	for (; n < 8; n++)
		if (!isdigit((unsigned char)p[n]))
			return 0;
	if (p[n++] != '-')
		return 0;
	while (p + n < end && isdigit((unsigned char)p[n]) && n < CVE_ID_MAX - 1) {
		n++;
		digits++;
	}
	if (digits < 4)
		return 0;
	memcpy(out, p, n);
	out[n] = '\0';
	return n;
}

static int scan_line(struct changelog_cves *c, const char *p, const char *end)
{
	char id[CVE_ID_MAX];

	for (; p < end; p++) {
		size_t n = cve_at(p, end, id);
		int r;

		if (!n)
			continue;
		r = add(c, id);
		if (r < 0)
			return r;
		p += n - 1;
	}
	return 0;
}

/* "pkg (1.2-3) bookworm-security; urgency=high": the version, into @ver. */
static bool entry_header(const char *p, const char *end, char *ver, size_t len)
{
	const char *open, *close;

	if (p == end || isspace((unsigned char)*p))
		return false;
	open = memchr(p, '(', (size_t)(end - p));
	close = open ? memchr(open, ')', (size_t)(end - open)) : NULL;
	if (!close || (size_t)(close - open - 1) >= len || close == open + 1)
		return false;
	memcpy(ver, open + 1, (size_t)(close - open - 1));
	ver[close - open - 1] = '\0';
	return true;
}

int changelog_cves_between(const char *text, size_t len, const char *running,
			   const char *installed, struct changelog_cves *ret)
{
	struct changelog_cves c = {0};
	const char *p = text, *end = text + len;
	bool in_range = false;
	int r = 0;

	while (p < end && r == 0) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		char ver[256];

		if (!eol)
			eol = end;
		if (entry_header(p, eol, ver, sizeof(ver))) {
			in_range = debversion_cmp(ver, running) > 0 &&
				   debversion_cmp(ver, installed) <= 0;
			c.entries += in_range;
		} else if (in_range) {
			r = scan_line(&c, p, eol);
		}
		p = eol + 1;
	}
	if (r < 0) {
		changelog_cves_free(&c);
		return r;
	}
	*ret = c;
	return 0;
}

void changelog_cves_free(struct changelog_cves *c)
{
	for (size_t i = 0; i < c->n; i++)
		free(c->ids[i]);
	free(c->ids);
	*c = (struct changelog_cves){0};
}
