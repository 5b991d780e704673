/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Helpers shared by the readers of libconfig files (licensed.conf in
 * config.c, products.d/ in product.c), so that both open files the same safe
 * way, accept durations the same way, and word their errors the same way:
 * "FILE:LINE: message". All of them return negative errno and fill err. */

#include <libconfig.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

#define CONF_FILE_SIZE_MAX (1024 * 1024)
#define CONF_URL_MAX 2048

/* Opens path as a regular file of at most CONF_FILE_SIZE_MAX bytes (never
 * blocking on a FIFO) and parses it into cfg. With missing_ok, a missing file
 * gives -ENOENT without touching err. */
int conf_file_read(config_t *cfg, const char *path, bool missing_ok, CoreError *err);

/* conf_file_read(), then conf_check_unknown_settings() on its root, which
 * it returns in *ret_root: what a reader of a whole file starts with. */
int conf_file_read_settings(config_t *cfg, const char *path, bool missing_ok, const char *const *known,
                            size_t n_known, const config_setting_t **ret_root, CoreError *err);

/* "a string", "an integer"...: the type of s, for messages. */
const char *conf_setting_type_to_string(const config_setting_t *s);

/* Formats "FILE:LINE: message" from where s was read, or "FILE: message" when
 * s is NULL or libconfig has no line; FILE defaults to path. Returns -abs(error). */
int conf_setting_error(CoreError *err, int error, const char *path, const config_setting_t *s,
                       const char *fmt, ...) _printf_(5, 6);

/* Fails on the first top-level setting of root whose name is not in known. */
int conf_check_unknown_settings(const config_setting_t *root, const char *const *known, size_t n_known,
                                const char *path, CoreError *err);

/* Returns 1 with the setting and its string if it exists, 0 with both NULL if
 * it does not (an error if required). */
int conf_get_string(const config_setting_t *root, const char *name, bool required, const char *path,
                    const config_setting_t **ret_setting, const char **ret, CoreError *err);

/* Integer seconds or a duration string like "14d". Returns 1 if the setting
 * exists, 0 (leaving *ret alone) if not. example is a duration string quoted
 * in the message when the type is wrong. */
int conf_get_duration(const config_setting_t *root, const char *name, const char *example, const char *path,
                      int64_t *ret, CoreError *err);

/* An absolute URL of at most CONF_URL_MAX bytes, with one of schemes
 * (case-insensitive, like "http://"), a host, and no spaces or control or
 * non-ASCII characters. */
bool conf_url_is_valid(const char *s, const char *const *schemes, size_t n_schemes);

/* s if it is printable UTF-8, otherwise "(unprintable)": safe to quote a
 * value back in a message. */
const char *conf_printable_value(const char *s);
