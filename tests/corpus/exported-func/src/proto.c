/* SPDX-License-Identifier: MIT */
/*   echo N PAYLOAD -> check_len(N, strlen(PAYLOAD))
 *   checks         -> "counting" while checks are counted */
#include <stdio.h>
#include <string.h>

extern long checks;
int check_len(int claimed, int actual);

const char *respond(const char *line)
{
	static char out[32];
	char payload[64];
	int claimed;

	if (strcmp(line, "checks") == 0)
		return checks > 0 ? "counting" : "none yet";
	if (sscanf(line, "echo %d %63s", &claimed, payload) != 2)
		return "bad request";
	snprintf(out, sizeof(out), "%d", check_len(claimed, (int)strlen(payload)));
	return out;
}
