/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* File helpers. Every file licensed writes goes through write_file_atomic():
 * a crash at any instant leaves either the old or the new content. */

#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

#include "error.h"

/* Writes data to a temporary file next to path, fsyncs it, renames it over
 * path and fsyncs the directory. Returns negative errno (-ENOSPC, -EROFS...). */
int write_file_atomic(const char *path, const void *data, size_t len, mode_t mode);

/* Reads a whole regular file of at most max_size bytes; appends a NUL that
 * is not counted in *ret_len. -EFBIG if the file is larger. */
int read_file(const char *path, size_t max_size, char **ret, size_t *ret_len);

/* Like read_file, from an open stream (stdin, say). */
int read_stream(FILE *f, size_t max_size, char **ret, size_t *ret_len);

/* fsync the directory containing path (after rename/unlink). */
int fsync_parent_dir(const char *path);
