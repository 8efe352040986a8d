/* SPDX-License-Identifier: MIT */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "error.h"
#include "macro.h"
#include "paths.h"

#define DEFAULT_BOOST_GRACE_NS (50 * NSEC_PER_USEC)

void config_defaults(struct hp_config *c)
{
	*c = (struct hp_config){
		.boost = true,
		.boost_grace_ns = DEFAULT_BOOST_GRACE_NS,
		.commit = COMMIT_AT_BOOT,
		.catch_up = CATCHUP_APPLY,
	};
}

static void strv_clear(struct strv *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i]);
	free(s->v);
	*s = (struct strv){0};
}

void config_free(struct hp_config *c)
{
	strv_clear(&c->exclude_exe);
	strv_clear(&c->exclude_unit);
	strv_clear(&c->exclude_cgroup);
	strv_clear(&c->exclude_user);
	free(c->build_sources);
	free(c->build_root);
	c->build_sources = c->build_root = NULL;
}

static int strv_add(struct strv *s, const char *v)
{
	char **nv = realloc(s->v, (s->n + 1) * sizeof(*nv));

	if (!nv)
		return -ENOMEM;
	s->v = nv;
	nv[s->n] = strdup(v);
	if (!nv[s->n])
		return -ENOMEM;
	s->n++;
	return 0;
}

static int parse_bool(const char *v, bool *ret)
{
	if (!strcmp(v, "yes") || !strcmp(v, "true") || !strcmp(v, "on") || !strcmp(v, "1"))
		*ret = true;
	else if (!strcmp(v, "no") || !strcmp(v, "false") || !strcmp(v, "off") || !strcmp(v, "0"))
		*ret = false;
	else
		return -EINVAL;
	return 0;
}

/* An absolute directory path; the last one given counts. */
static int set_dir(char **dst, const char *val)
{
	char *v;

	if (val[0] != '/')
		return -EINVAL;
	v = strdup(val);
	if (!v)
		return -ENOMEM;
	free(*dst);
	*dst = v;
	return 0;
}

static int set(struct hp_config *c, const char *key, const char *val)
{
	if (!strcmp(key, "boost"))
		return parse_bool(val, &c->boost);
	if (!strcmp(key, "boost-grace-us")) {
		char *end;
		long v = strtol(val, &end, 10);

		if (*end || v < 0 || v > 1000000)
			return -EINVAL;
		c->boost_grace_ns = v * NSEC_PER_USEC;
		return 0;
	}
	if (!strcmp(key, "commit")) {
		if (!strcmp(val, "at-boot"))
			c->commit = COMMIT_AT_BOOT;
		else if (!strcmp(val, "immediately"))
			c->commit = COMMIT_IMMEDIATELY;
		else if (!strcmp(val, "never"))
			c->commit = COMMIT_NEVER;
		else
			return -EINVAL;
		return 0;
	}
	if (!strcmp(key, "catch-up")) {
		if (!strcmp(val, "list"))
			c->catch_up = CATCHUP_LIST;
		else if (!strcmp(val, "apply"))
			c->catch_up = CATCHUP_APPLY;
		else if (!strcmp(val, "build"))
			c->catch_up = CATCHUP_BUILD;
		else
			return -EINVAL;
		return 0;
	}
	if (!strcmp(key, "build-sources"))
		return set_dir(&c->build_sources, val);
	if (!strcmp(key, "build-root"))
		return set_dir(&c->build_root, val);
	if (!strcmp(key, "exclude-exe"))
		return strv_add(&c->exclude_exe, val);
	if (!strcmp(key, "exclude-unit"))
		return strv_add(&c->exclude_unit, val);
	if (!strcmp(key, "exclude-cgroup"))
		return strv_add(&c->exclude_cgroup, val);
	if (!strcmp(key, "exclude-user"))
		return strv_add(&c->exclude_user, val);
	return -ENOENT;
}

static char *trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

static int parse_line(struct hp_config *c, char *line, unsigned lineno)
{
	char *eq, *key, *val;
	int r;

	line[strcspn(line, "#")] = '\0';
	key = trim(line);
	if (!*key)
		return 0;
	eq = strchr(key, '=');
	if (!eq)
		return hp_err(-EINVAL, "%s:%u: expected 'key = value'", paths()->config, lineno);
	*eq = '\0';
	key = trim(key);
	val = trim(eq + 1);
	r = set(c, key, val);
	if (r == -ENOENT)
		return hp_err(-EINVAL, "%s:%u: unknown setting '%s' (see hotpatch.conf(5))",
			      paths()->config, lineno, key);
	if (r < 0)
		return hp_err(-EINVAL, "%s:%u: bad value '%s' for %s", paths()->config, lineno, val,
			      key);
	return 0;
}

int config_load(struct hp_config *ret)
{
	_cleanup_free_ char *line = NULL;
	struct hp_config c;
	unsigned lineno = 0;
	size_t cap = 0;
	FILE *f;
	int r = 0;

	config_defaults(&c);
	f = fopen(paths()->config, "re");
	if (!f) {
		*ret = c;
		return errno == ENOENT ? 0 : hp_err(-errno, "cannot read %s: %m", paths()->config);
	}
	while (r == 0 && getline(&line, &cap, f) > 0)
		r = parse_line(&c, line, ++lineno);
	fclose(f);
	if (r < 0) {
		config_free(&c);
		return r;
	}
	*ret = c;
	return 0;
}
