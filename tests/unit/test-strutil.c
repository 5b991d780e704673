/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "strutil.h"
#include "test-util.h"

static void test_strstrip(void **state) {
        static const struct {
                const char *in, *out;
        } table[] = {
                {"", ""},       {"   ", ""},    {"a", "a"}, {"  a b  ", "a b"}, {"\t\r\n key \n", "key"},
                {"\va\f", "a"}, {"x\n\n", "x"},
        };

        for (size_t i = 0; i < ELEMENTSOF(table); i++) {
                char *s = strdup(table[i].in);

                assert_non_null(s);
                assert_string_equal(strstrip(s), table[i].out);
                free(s);
        }
}

static void test_startswith(void **state) {
        assert_string_equal(startswith("org.licensed.x", "org.licensed."), "x");
        assert_string_equal(startswith("abc", ""), "abc");
        assert_string_equal(startswith("abc", "abc"), "");
        assert_null(startswith("ab", "abc"));
        assert_null(startswith("xbc", "a"));
}

static void test_isempty_strdup_or_null(void **state) {
        char *s;

        assert_true(isempty(NULL));
        assert_true(isempty(""));
        assert_false(isempty(" "));

        assert_null(strdup_or_null(NULL));
        s = strdup_or_null("x");
        assert_string_equal(s, "x");
        free(s);
}

/* Up to max bytes and no further; a refused append changes nothing. */
static void test_capped_buffer(void **state) {
        CappedBuffer b = {.max = 5};

        assert_int_equal(capped_buffer_append(&b, "abc", 3), 0);
        assert_int_equal(capped_buffer_append(&b, "de", 2), 0);
        assert_string_equal(b.data, "abcde");
        assert_false(b.too_large);
        assert_int_equal(capped_buffer_append(&b, "f", 1), -EFBIG);
        assert_true(b.too_large);
        assert_int_equal(b.len, 5);
        assert_string_equal(b.data, "abcde");
        free(b.data);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_strstrip),
                cmocka_unit_test(test_startswith),
                cmocka_unit_test(test_isempty_strdup_or_null),
                cmocka_unit_test(test_capped_buffer),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
