/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "test-util.h"

static void test_parse_good(void **state) {
        static const struct {
                const char *s;
                int64_t t;
        } table[] = {
                {"1970-01-01T00:00:00Z", 0},
                {"2026-01-01T00:00:00Z", T0},
                {"2026-01-01", T0},
                {"2024-02-29T12:00:00Z", INT64_C(1709208000)},
                {"2026-11-22T10:20:30Z", INT64_C(1795342830)},
                {"2100-03-01", INT64_C(4107542400)},
        };
        for (size_t i = 0; i < ELEMENTSOF(table); i++) {
                int64_t t;
                char buf[RFC3339_MAX];
                assert_int_equal(time_parse_rfc3339(table[i].s, &t, NULL), 0);
                assert_int_equal(t, table[i].t);
                /* and back, in canonical form */
                assert_int_equal(time_parse_rfc3339(time_format_rfc3339(t, buf), &t, NULL), 0);
                assert_int_equal(t, table[i].t);
        }
}

static void test_parse_bad(void **state) {
        static const char *const bad[] = {
                "", "2026", "2026-13-01", "2026-00-10", "2026-02-29", "2025-04-31", "2026-01-01T24:00:00Z",
                "2026-01-01T00:00:00", "2026-01-01T00:00:00+01:00", "2026-01-01 00:00:00Z", "1969-12-31",
                "2026-1-01", "x026-01-01", "2026-01-01T00:60:00Z",
        };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                int64_t t;
                CoreError err = {};
                assert_int_equal(time_parse_rfc3339(bad[i], &t, &err), -EINVAL);
                assert_non_null(strstr(err.message, "UTC time"));
        }
}

static void test_durations(void **state) {
        static const struct {
                const char *s;
                int64_t d;
                const char *canonical;
        } table[] = {
                {"0", 0, "0s"}, {"45", 45, "45s"}, {"90m", 5400, "90m"}, {"12h", 43200, "12h"},
                {"14d", 14 * SEC_PER_DAY, "2w"}, {"1w", 7 * SEC_PER_DAY, "1w"}, {"3d", 3 * SEC_PER_DAY, "3d"},
        };
        for (size_t i = 0; i < ELEMENTSOF(table); i++) {
                int64_t d;
                char buf[32];
                assert_int_equal(duration_parse(table[i].s, &d, NULL), 0);
                assert_int_equal(d, table[i].d);
                assert_string_equal(duration_format(d, buf), table[i].canonical);
        }
        static const char *const bad[] = {"", "d", "-1", "1x", "1dd", "99999999999999999999", " 1"};
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                int64_t d;
                assert_int_equal(duration_parse(bad[i], &d, NULL), -EINVAL);
        }
}

static void test_days_left(void **state) {
        assert_int_equal(days_left(0, 0), 0);
        assert_int_equal(days_left(10, 5), 0);
        assert_int_equal(days_left(0, 1), 1);
        assert_int_equal(days_left(0, SEC_PER_DAY), 1);
        assert_int_equal(days_left(0, SEC_PER_DAY + 1), 2);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_parse_good),
                cmocka_unit_test(test_parse_bad),
                cmocka_unit_test(test_durations),
                cmocka_unit_test(test_days_left),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
