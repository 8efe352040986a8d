/* SPDX-License-Identifier: MIT */
/* existing-data: the changed function reads existing data, a file-scope
 * static and a static of its own, whose values at run time (set when the
 * program starts) differ from their initial ones. The patched function must
 * use the running process's data, not copies of it.
 *   motd -> motd(NULL) */
#include <stdio.h>
#include <string.h>

static int level = 1; /* 7 once the configuration is loaded */

__attribute__((noinline)) static const char *motd(const char *set)
{
	static char text[32] = "unset";
	static char out[64];

	if (set) {
		snprintf(text, sizeof(text), "%s", set);
		return text;
	}
	snprintf(out, sizeof(out), "level %d: %s", level, text);
	return out;
}

/* The configuration, loaded at start. */
__attribute__((constructor)) static void load_config(void)
{
	level = 7;
	motd("welcome");
}

const char *respond(const char *line)
{
	if (strcmp(line, "motd") == 0)
		return motd(NULL);
	return "unknown";
}
