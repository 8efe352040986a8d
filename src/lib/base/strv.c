/* SPDX-License-Identifier: MIT */
#include "strv.h"

#include <stdlib.h>

void strv_free_n(char **v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		free(v[i]);
	free(v);
}
