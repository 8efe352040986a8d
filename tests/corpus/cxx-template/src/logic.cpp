#include "clamp.h"
#include <cstdio>

extern "C" const char *respond(const char *line)
{
	static char out[64];
	long n;

	if (std::sscanf(line, "len %ld", &n) == 1)
		std::snprintf(out, sizeof(out), "%ld", clamp_len<long>(n, 100));
	else if (std::sscanf(line, "shape %ld", &n) == 1)
		std::snprintf(out, sizeof(out), "%ld", shape_len(n));
	else
		return "?";
	return out;
}
