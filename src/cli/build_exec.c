/* SPDX-License-Identifier: MIT */
/*
 * `hotpatch build` runs hotpatch-build, a program of its own in the
 * hotpatch-build package. The builder needs a compiler, binutils and
 * libcapstone; a production host that only applies signed bundles needs
 * none of them, and the hotpatch package does not pull them in.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "error.h"

/* Beside this program first (a build tree: src/cli/), then where the
 * package installs it. */
static int find_builder(char *out, size_t len)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

	if (n > 0) {
		char *slash;

		self[n] = '\0';
		slash = strrchr(self, '/');
		if (slash) {
			*slash = '\0';
			snprintf(out, len, "%s/hotpatch-build", self);
			if (access(out, X_OK) == 0)
				return 0;
		}
	}
	snprintf(out, len, "%s", HP_BUILDER_PATH);
	return access(out, X_OK) == 0 ? 0 : -ENOENT;
}

int cmd_build_exec(int argc, char **argv, const char *root)
{
	char path[PATH_MAX];
	char **args = calloc((size_t)argc + 1, sizeof(*args));

	if (!args)
		return cli_refuse(hp_err(-ENOMEM, "out of memory"));
	if (find_builder(path, sizeof(path)) < 0) {
		free(args);
		return cli_refuse(hp_err(-ENOENT, "hotpatch build needs the builder, %s, from the "
						  "hotpatch-build package: apt install hotpatch-build",
					 HP_BUILDER_PATH));
	}
	/* The builder takes the same arguments as `hotpatch build`. */
	if (root && setenv("HOTPATCH_ROOT", root, 1) < 0) {
		free(args);
		return cli_refuse(hp_err(-errno, "cannot pass --root to the builder: %m"));
	}
	args[0] = "hotpatch-build";
	for (int i = 1; i < argc; i++)
		args[i] = argv[i];
	fflush(NULL);
	execv(path, args);
	free(args);
	return cli_refuse(hp_err(-errno, "cannot run the builder %s: %m", path));
}
