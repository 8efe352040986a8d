/* SPDX-License-Identifier: MIT */
#include "runcmd.h"

#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "error.h"

extern char **environ;

static int setup_output(posix_spawn_file_actions_t *fa, const struct runcmd_opts *o)
{
	if (o && o->log) {
		if (posix_spawn_file_actions_addopen(fa, 1, o->log, O_WRONLY | O_CREAT | O_APPEND,
						     0644) ||
		    posix_spawn_file_actions_adddup2(fa, 1, 2))
			return -ENOMEM;
	} else if (o && o->quiet) {
		if (posix_spawn_file_actions_addopen(fa, 1, "/dev/null", O_WRONLY, 0) ||
		    posix_spawn_file_actions_adddup2(fa, 1, 2))
			return -ENOMEM;
	}
	if (o && o->cwd && posix_spawn_file_actions_addchdir_np(fa, o->cwd))
		return -ENOMEM;
	return 0;
}

int runcmd(char *const argv[], const struct runcmd_opts *o)
{
	posix_spawn_file_actions_t fa;
	pid_t pid;
	int r, status;

	if (posix_spawn_file_actions_init(&fa))
		return hp_err(-ENOMEM, "out of memory");
	r = setup_output(&fa, o);
	if (r == 0)
		r = -posix_spawnp(&pid, argv[0], &fa, NULL, argv, o && o->envp ? o->envp : environ);
	posix_spawn_file_actions_destroy(&fa);
	if (r < 0)
		return hp_err(r, "cannot run %s: %s", argv[0], strerror(-r));
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return hp_err(-errno, "waiting for %s: %m", argv[0]);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	if (WIFEXITED(status))
		return hp_err(-EIO, "%s failed with exit status %d", argv[0], WEXITSTATUS(status));
	return hp_err(-EIO, "%s was killed by signal %d", argv[0], WTERMSIG(status));
}
