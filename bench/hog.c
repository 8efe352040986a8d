/* SPDX-License-Identifier: MIT */
/*
 * A CPU hog for the loaded-host benchmark: one thread in a busy loop at
 * normal priority, forever. Has nothing patchable. Writes "ready" to stdout
 * and dies with its parent.
 *
 *   bench-hog
 */
#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>

volatile unsigned long hog_sink;

int main(void)
{
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (write(1, "ready\n", 6) != 6)
		return 1;
	for (;;)
		hog_sink++;
}
