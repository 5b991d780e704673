/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>

#include "report-error.h"

int report_error(int r, const char *fmt, ...) {
        _cleanup_free_ char *message = NULL;
        int saved = errno;
        va_list ap;
        int n;

        assert(fmt);

        va_start(ap, fmt);
        n = vasprintf(&message, fmt, ap);
        va_end(ap);
        if (n < 0) {
                /* Out of memory: the message still gets out, in pieces. */
                message = NULL;
                fprintf(stderr, "%s: ", program_invocation_short_name);
                errno = saved;
                va_start(ap, fmt);
                vfprintf(stderr, fmt, ap);
                va_end(ap);
                fputc('\n', stderr);
        } else
                fprintf(stderr, "%s: %s\n", program_invocation_short_name, message);
        errno = saved;
        return r;
}
