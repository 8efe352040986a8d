#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int scale_near(int n);
int scale_changed(int n);

const char *respond(const char *line)
{
	static char out[64];

	if (strncmp(line, "near ", 5) == 0)
		snprintf(out, sizeof(out), "%d", scale_near(atoi(line + 5)));
	else if (strncmp(line, "changed ", 8) == 0)
		snprintf(out, sizeof(out), "%d", scale_changed(atoi(line + 8)));
	else
		return "unknown";
	return out;
}
