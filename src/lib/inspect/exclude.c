/* SPDX-License-Identifier: MIT */
#include "exclude.h"

#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "procfs.h"

/* The cgroup v2 path ("0::/system.slice/foo.service"). */
static void cgroup_of(pid_t pid, char *buf, size_t len)
{
	char path[64], line[1024];
	FILE *f;

	buf[0] = '\0';
	snprintf(path, sizeof(path), "/proc/%d/cgroup", pid);
	f = fopen(path, "re");
	while (f && fgets(line, sizeof(line), f))
		if (strncmp(line, "0::", 3) == 0) {
			line[strcspn(line, "\n")] = '\0';
			snprintf(buf, len, "%s", line + 3);
			break;
		}
	if (f)
		fclose(f);
}

static bool unit_matches(const char *cgroup, const char *unit)
{
	const char *last = strrchr(cgroup, '/');
	size_t n = strlen(unit);

	/* A service's processes live in its cgroup or one below it. */
	for (const char *p = cgroup; (p = strstr(p, unit)); p++)
		if ((p == cgroup || p[-1] == '/') && (p[n] == '\0' || p[n] == '/'))
			return true;
	return last && strcmp(last + 1, unit) == 0;
}

static bool user_matches(uid_t uid, const char *user)
{
	char *end;
	unsigned long v = strtoul(user, &end, 10);
	struct passwd *pw;

	if (!*end)
		return v == uid;
	pw = getpwnam(user);
	return pw && pw->pw_uid == uid;
}

int exclude_match(const struct hp_config *c, pid_t pid, char *ret_rule, size_t len)
{
	char exe[4096] = "", path[64], cgroup[1024];
	uid_t uid = (uid_t)-1;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/exe", pid);
	n = readlink(path, exe, sizeof(exe) - 1);
	if (n > 0)
		exe[n] = '\0';
	for (size_t i = 0; i < c->exclude_exe.n; i++)
		if (strcmp(exe, c->exclude_exe.v[i]) == 0) {
			snprintf(ret_rule, len, "exclude-exe = %s", c->exclude_exe.v[i]);
			return 1;
		}
	cgroup_of(pid, cgroup, sizeof(cgroup));
	for (size_t i = 0; i < c->exclude_unit.n; i++)
		if (unit_matches(cgroup, c->exclude_unit.v[i])) {
			snprintf(ret_rule, len, "exclude-unit = %s", c->exclude_unit.v[i]);
			return 1;
		}
	for (size_t i = 0; i < c->exclude_cgroup.n; i++)
		if (strncmp(cgroup, c->exclude_cgroup.v[i], strlen(c->exclude_cgroup.v[i])) == 0) {
			snprintf(ret_rule, len, "exclude-cgroup = %s", c->exclude_cgroup.v[i]);
			return 1;
		}
	if (c->exclude_user.n && proc_uid(pid, &uid) == 0)
		for (size_t i = 0; i < c->exclude_user.n; i++)
			if (user_matches(uid, c->exclude_user.v[i])) {
				snprintf(ret_rule, len, "exclude-user = %s", c->exclude_user.v[i]);
				return 1;
			}
	return 0;
}
