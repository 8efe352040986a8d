/* SPDX-License-Identifier: MIT */
/* Arrays of strings, as the manifest, the builder and config keep them. */
#pragma once

#include <stddef.h>

/* Frees the @n strings of @v and @v itself (NULL is fine). */
void strv_free_n(char **v, size_t n);
