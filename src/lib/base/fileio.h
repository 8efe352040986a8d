/* SPDX-License-Identifier: MIT */
/* Whole-file reads with a size limit, and crash-safe whole-file writes. */
#pragma once

#include <stddef.h>
#include <stdint.h>

int file_read_all(const char *path, size_t max, uint8_t **ret, size_t *ret_len);
/* Temp file in the same directory, fsync, rename, fsync of the directory. */
int file_write_atomic(const char *path, const void *data, size_t len, unsigned mode);
/* The same without either fsync: readers see the whole old or the whole new
 * file, but a power cut may leave a damaged one. Only for copies that every
 * user compares with their source and rewrites when they differ. */
int file_write_cached(const char *path, const void *data, size_t len, unsigned mode);
/* mkdir -p with @mode for the directories it creates. */
int mkdir_p(const char *path, unsigned mode);
/* write(2) until all of @data is written (EINTR and short writes retried). */
int write_full(int fd, const void *data, size_t len);
