/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>

#include "log.h"
#include "report-error.h"
#include "test-capture.h"

static void test_report_error(void **state) {
        Capture c;
        char *out;

        capture_start(&c);
        assert_int_equal(report_error(-EINVAL, "unexpected argument '%s'", "x"), -EINVAL);
        assert_int_equal(report_error(4, "%d KiB at most.", 16), 4); /* an exit status goes through too */
        assert_int_equal(report_error(0, "%s", ""), 0);
        out = capture_end(&c);
        /* the name the program was run as, then the message, one line each */
        assert_string_equal(out, "test-report-error: unexpected argument 'x'\n"
                                 "test-report-error: 16 KiB at most.\n"
                                 "test-report-error: \n");
        free(out);
}

static void test_report_error_errno(void **state) {
        Capture c;
        char *out;

        capture_start(&c);
        errno = ENOENT;
        assert_int_equal(report_error(-ENOENT, "cannot open it: %m"), -ENOENT);
        /* the caller's errno survives the printing */
        assert_int_equal(errno, ENOENT);
        out = capture_end(&c);
        assert_string_equal(out, "test-report-error: cannot open it: No such file or directory\n");
        free(out);
}

static void test_report_error_long(void **state) {
        char *long_text, *out, *expected;
        Capture c;

        /* no cut at some buffer size */
        long_text = malloc(5000);
        assert_non_null(long_text);
        memset(long_text, 'a', 4999);
        long_text[4999] = 0;
        capture_start(&c);
        report_error(1, "%s", long_text);
        out = capture_end(&c);
        assert_true(asprintf(&expected, "test-report-error: %s\n", long_text) > 0);
        assert_string_equal(out, expected);
        free(expected);
        free(out);
        free(long_text);
}

static void test_log(void **state) {
        Capture c;
        char *out;

        capture_start(&c);
        assert_int_equal(log_error_errno(-EIO, "disk: %m"), -EIO);
        assert_int_equal(log_warning_errno(EROFS, "read-only"), -EROFS); /* either sign, negative back */
        assert_int_equal(log_info("hello %d", 1), 0);
        log_debug("not shown at the default level");
        log_set_max_level(LOG_DEBUG);
        log_debug("shown now");
        log_set_max_level(LOG_INFO);
        errno = EPERM;
        log_info("errno kept");
        assert_int_equal(errno, EPERM);
        out = capture_end(&c);
        /* "<N>" is the priority journald reads */
        assert_string_equal(out, "<3>disk: Input/output error\n"
                                 "<4>read-only\n"
                                 "<6>hello 1\n"
                                 "<7>shown now\n"
                                 "<6>errno kept\n");
        free(out);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_report_error),
                cmocka_unit_test(test_report_error_errno),
                cmocka_unit_test(test_report_error_long),
                cmocka_unit_test(test_log),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
