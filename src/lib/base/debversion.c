/* SPDX-License-Identifier: MIT */
/* dpkg's version ordering (lib/dpkg/version.c, verrevcmp), written again. */
#include "debversion.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

/* The weight of one non-digit character: '~' sorts before the end of the
 * string, which sorts before letters, which sort before everything else. */
static int order(int c)
{
	if (isdigit(c))
		return 0;
	if (isalpha(c))
		return c;
	if (c == '~')
		return -1;
	if (c)
		return c + 256;
	return 0;
}

/* Compares one part (upstream or revision) of [a, a_end) and [b, b_end). */
static int part_cmp(const char *a, const char *a_end, const char *b, const char *b_end)
{
	while (a < a_end || b < b_end) {
		int first_diff = 0;

		while ((a < a_end && !isdigit((unsigned char)*a)) ||
		       (b < b_end && !isdigit((unsigned char)*b))) {
			int ac = a < a_end ? order((unsigned char)*a) : 0;
			int bc = b < b_end ? order((unsigned char)*b) : 0;

			if (ac != bc)
				return ac - bc;
			a++;
			b++;
		}
		while (a < a_end && *a == '0')
			a++;
		while (b < b_end && *b == '0')
			b++;
		while (a < a_end && isdigit((unsigned char)*a) && b < b_end &&
		       isdigit((unsigned char)*b)) {
			if (!first_diff)
				first_diff = *a - *b;
			a++;
			b++;
		}
		if (a < a_end && isdigit((unsigned char)*a))
			return 1;
		if (b < b_end && isdigit((unsigned char)*b))
			return -1;
		if (first_diff)
			return first_diff;
	}
	return 0;
}

struct parts {
	unsigned long epoch;
	const char *up, *up_end, *rev, *rev_end;
};

static void split(const char *v, struct parts *p)
{
	const char *colon = strchr(v, ':'), *dash;

	p->epoch = 0;
	if (colon) {
		p->epoch = strtoul(v, NULL, 10);
		v = colon + 1;
	}
	dash = strrchr(v, '-');
	p->up = v;
	p->up_end = dash ? dash : v + strlen(v);
	p->rev = dash ? dash + 1 : p->up_end;
	p->rev_end = dash ? dash + 1 + strlen(dash + 1) : p->up_end;
}

int debversion_cmp(const char *a, const char *b)
{
	struct parts pa, pb;
	int r;

	split(a, &pa);
	split(b, &pb);
	if (pa.epoch != pb.epoch)
		return pa.epoch < pb.epoch ? -1 : 1;
	r = part_cmp(pa.up, pa.up_end, pb.up, pb.up_end);
	if (r)
		return r;
	return part_cmp(pa.rev, pa.rev_end, pb.rev, pb.rev_end);
}
