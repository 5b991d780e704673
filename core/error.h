/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Core functions return negative errno. When the cause is the input (a
 * mistyped key, a tampered license, a bad config line) they also fill in a
 * human sentence here, so the boundary that logs or replies can say *what*
 * is wrong, not just EINVAL. The struct lives on the caller's stack. */

#include "macro.h"

typedef struct CoreError {
        char message[512];
} CoreError;

/* Sets err->message (if err is non-NULL) and returns -abs(error). The
 * message is made printable UTF-8 (utf8_make_printable()): it may quote
 * untrusted bytes and be cut anywhere. */
int core_error_set(CoreError *err, int error, const char *fmt, ...) _printf_(3, 4);

/* Prefixes an existing message, e.g. with a file name. */
void core_error_prefix(CoreError *err, const char *fmt, ...) _printf_(2, 3);

static inline const char *core_error_message(const CoreError *err, int r) {
        if (err && err->message[0])
                return err->message;
        return strerror(r < 0 ? -r : r);
}
