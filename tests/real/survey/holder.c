/* SPDX-License-Identifier: MIT */
/* A process that uses a library: dlopen()s each argument, says "ready" and
 * sleeps until killed. The survey runs it inside the root that has the older
 * version installed, and times one `hotpatch apply` on it. */
#include <dlfcn.h>
#include <stdio.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (!dlopen(argv[i], RTLD_NOW | RTLD_GLOBAL)) {
			fprintf(stderr, "holder: %s\n", dlerror());
			return 1;
		}
	}
	printf("ready\n");
	fflush(stdout);
	for (;;)
		pause();
}
