/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdarg.h>

#include "error.h"
#include "text-check.h"

int core_error_set(CoreError *err, int error, const char *fmt, ...) {
        if (err) {
                va_list ap;
                va_start(ap, fmt);
                vsnprintf(err->message, sizeof(err->message), fmt, ap);
                va_end(ap);
                /* Messages quote untrusted input and are cut to size: they
                 * go into D-Bus errors (which must be UTF-8) and onto
                 * terminals (where escape sequences must not reach). */
                utf8_make_printable(err->message);
        }
        return error < 0 ? error : -error;
}

void core_error_prefix(CoreError *err, const char *fmt, ...) {
        char prefix[256], old[sizeof(err->message)];
        va_list ap;

        if (!err)
                return;
        va_start(ap, fmt);
        vsnprintf(prefix, sizeof(prefix), fmt, ap);
        va_end(ap);
        memcpy(old, err->message, sizeof(old));
        /* Truncation is acceptable: the message is for humans. */
        size_t n = strnlen(prefix, sizeof(prefix) - 1);
        memcpy(err->message, prefix, n);
        size_t m = strnlen(old, sizeof(err->message) - 1 - n);
        memcpy(err->message + n, old, m);
        err->message[n + m] = 0;
        utf8_make_printable(err->message);
}
