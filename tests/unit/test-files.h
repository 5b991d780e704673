/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Shared by the unit tests that read files (config, products): a scratch
 * directory per test group, files written into it, paths into
 * tests/unit/data, and assertions on error messages. */

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "test-util.h"

typedef struct TestState {
        char tmpdir[64];
} TestState;

/* $TEST_DATA_DIR/SUBDIR/REL (tests/unit/data when unset); free() it. */
static inline char *test_data_path(const char *subdir, const char *rel) {
        const char *d = getenv("TEST_DATA_DIR");
        char *p;

        assert_true(asprintf(&p, "%s/%s/%s", d ? d : "tests/unit/data", subdir, rel) >= 0);
        return p;
}

/* Writes content to NAME in the scratch directory; returns the path, free() it. */
static inline char *test_write_tmp(const TestState *st, const char *name, const char *content) {
        FILE *f;
        char *p;

        assert_true(asprintf(&p, "%s/%s", st->tmpdir, name) >= 0);
        f = fopen(p, "we");
        assert_non_null(f);
        assert_true(fputs(content, f) >= 0);
        assert_int_equal(fclose(f), 0);
        return p;
}

static inline int test_rm_one(const char *path, const struct stat *sb, int type, struct FTW *ftw) {
        (void) sb;
        (void) type;
        (void) ftw;
        return remove(path);
}

/* Group setup: a TestState with a fresh /tmp/NAME-XXXXXX scratch directory. */
static inline int test_tmpdir_setup(void **state, const char *name) {
        TestState *st = calloc(1, sizeof(TestState));

        if (!st)
                return -1;
        snprintf(st->tmpdir, sizeof(st->tmpdir), "/tmp/%s-XXXXXX", name);
        if (!mkdtemp(st->tmpdir)) {
                free(st);
                return -1;
        }
        *state = st;
        return 0;
}

/* Group teardown: removes the scratch directory and everything in it. */
static inline int test_tmpdir_teardown(void **state) {
        TestState *st = *state;

        nftw(st->tmpdir, test_rm_one, 16, FTW_DEPTH | FTW_PHYS);
        free(st);
        return 0;
}

static inline void assert_has_prefix(const char *s, const char *prefix) {
        if (strncmp(s, prefix, strlen(prefix)) != 0)
                fail_msg("\"%s\" does not start with \"%s\"", s, prefix);
}

static inline void assert_contains(const char *s, const char *needle) {
        if (!strstr(s, needle))
                fail_msg("\"%s\" does not contain \"%s\"", s, needle);
}
