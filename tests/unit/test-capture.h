/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Captures what a piece of code writes to stderr, for the tests of the
 * printers (report_error(), log_*(), dispatch_verb()'s messages). */

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "test-util.h"

typedef struct Capture {
        FILE *file;
        int saved_fd;
} Capture;

/* From now on, stderr goes to a temporary file. */
static inline void capture_start(Capture *c) {
        fflush(stderr);
        c->file = tmpfile();
        assert_non_null(c->file);
        c->saved_fd = dup(STDERR_FILENO);
        assert_true(c->saved_fd >= 0);
        assert_true(dup2(fileno(c->file), STDERR_FILENO) >= 0);
}

/* Puts stderr back and returns what was written to it; free() it. */
static inline char *capture_end(Capture *c) {
        char *text;
        long n;

        fflush(stderr);
        assert_true(dup2(c->saved_fd, STDERR_FILENO) >= 0);
        close(c->saved_fd);
        n = ftell(c->file);
        assert_true(n >= 0);
        text = calloc(1, (size_t) n + 1);
        assert_non_null(text);
        rewind(c->file);
        assert_int_equal(fread(text, 1, (size_t) n, c->file), (size_t) n);
        fclose(c->file);
        return text;
}
