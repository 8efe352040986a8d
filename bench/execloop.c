/* SPDX-License-Identifier: MIT */
/*
 * Exec throughput of an unrelated program, for hotpatchd's benchmark:
 *
 *   bench-execloop N PROGRAM
 *
 * Runs PROGRAM (no arguments) N times, one after the other (vfork, exec,
 * wait), and prints the wall time of each run in nanoseconds, one per line.
 */
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>

extern char **environ;

static long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int main(int argc, char **argv)
{
	long n = argc == 3 ? atol(argv[1]) : 0;
	char *args[] = {argv[argc - 1], NULL};

	if (n <= 0) {
		fprintf(stderr, "usage: bench-execloop N PROGRAM\n");
		return 2;
	}
	for (long i = 0; i < n; i++) {
		long long t = now_ns();
		pid_t pid;
		int status;

		if (posix_spawn(&pid, args[0], NULL, NULL, args, environ) != 0 ||
		    waitpid(pid, &status, 0) != pid || status != 0) {
			fprintf(stderr, "bench-execloop: %s failed\n", args[0]);
			return 1;
		}
		printf("%lld\n", now_ns() - t);
	}
	return 0;
}
