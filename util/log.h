/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Plain logging to stderr with syslog priority prefixes, which journald
 * reads when licensed runs as a service. Events an administrator monitors
 * (activated, grace entered, ...) go through events.h instead, with their
 * own MESSAGE_IDs. Log once, at the boundary. */

#include <errno.h>
#include <syslog.h>

#include "macro.h"

void log_set_max_level(int level);
int log_internal(int level, int error, const char *fmt, ...) _printf_(3, 4);

#define log_debug(...) log_internal(LOG_DEBUG, 0, __VA_ARGS__)
#define log_info(...) log_internal(LOG_INFO, 0, __VA_ARGS__)
#define log_notice(...) log_internal(LOG_NOTICE, 0, __VA_ARGS__)
#define log_warning(...) log_internal(LOG_WARNING, 0, __VA_ARGS__)
#define log_error(...) log_internal(LOG_ERR, 0, __VA_ARGS__)
/* Log and return the (negative) error, for "return log_error_errno(r, ...)". */
#define log_error_errno(error, ...) log_internal(LOG_ERR, error, __VA_ARGS__)
#define log_warning_errno(error, ...) log_internal(LOG_WARNING, error, __VA_ARGS__)
#define log_oom() log_internal(LOG_ERR, -ENOMEM, "Out of memory.")
