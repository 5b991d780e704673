/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "test-util.h"
#include "text-check.h"

static void test_utf8_is_printable(void **state) {
        static const struct {
                const char *s;
                bool tab_ok, ok;
        } table[] = {
                {"", false, true},
                {"ACME Corp", false, true},
                {"Müller GmbH – Zürich", false, true},
                {"日本語", false, true},
                {"\xf0\x9f\x94\x91", false, true}, /* U+1F511, four bytes */
                {"a\tb", true, true},
                {"a\tb", false, false},
                {"a\nb", true, false},
                {"a\x7f", false, false},            /* DEL */
                {"\xc2\x85", false, false},         /* U+0085, a C1 control */
                {"\xc0\xaf", false, false},         /* overlong '/' */
                {"\xe0\x80\xaf", false, false},     /* overlong, three bytes */
                {"\xed\xa0\x80", false, false},     /* a surrogate */
                {"\xef\xb7\x90", false, false},     /* U+FDD0, a noncharacter */
                {"\xef\xbf\xbe", false, false},     /* U+FFFE */
                {"\xf4\x90\x80\x80", false, false}, /* beyond U+10FFFF */
                {"\xc3", false, false},             /* cut */
                {"\xe2\x82", false, false},         /* cut */
                {"\x80", false, false},             /* a lone continuation byte */
                {"\xff", false, false},
        };

        for (size_t i = 0; i < ELEMENTSOF(table); i++)
                if (utf8_is_printable(table[i].s, strlen(table[i].s), table[i].tab_ok) != table[i].ok)
                        fail_msg("utf8_is_printable(#%zu) != %d", i, table[i].ok);
        /* the length counts, not a NUL */
        assert_false(utf8_is_printable("a\0b", 3, false));
        assert_true(utf8_is_printable("a\0b", 1, false));
}

static void test_utf8_make_printable(void **state) {
        static const struct {
                const char *in, *out;
        } table[] = {
                {"plain", "plain"}, {"Zürich", "Zürich"}, {"a\tb\nc", "a?b?c"},
                {"\xc3", "?"},      {"x\xe2\x82", "x??"}, {"\xc0\xaf", "??"},
        };

        for (size_t i = 0; i < ELEMENTSOF(table); i++) {
                char *s = strdup(table[i].in);

                assert_non_null(s);
                assert_ptr_equal(utf8_make_printable(s), s);
                assert_string_equal(s, table[i].out);
                free(s);
        }
}

static void test_identifier_is_valid(void **state) {
        assert_true(identifier_is_valid("acme-0001", 64));
        assert_true(identifier_is_valid("com.example.app", 64));
        assert_true(identifier_is_valid("A_b.9", 5));
        assert_false(identifier_is_valid("A_b.9x", 5)); /* too long */
        assert_false(identifier_is_valid("", 64));
        assert_false(identifier_is_valid(NULL, 64));
        assert_false(identifier_is_valid(".hidden", 64));
        assert_false(identifier_is_valid("-option", 64));
        assert_false(identifier_is_valid("a/b", 64));
        assert_false(identifier_is_valid("a b", 64));
        assert_false(identifier_is_valid("ü", 64));
}

static void test_hex_is_valid(void **state) {
        assert_true(hex_is_valid("0123456789abcdef", 16));
        assert_true(hex_is_valid("", 0));
        assert_false(hex_is_valid("0123456789ABCDEF", 16)); /* lower case only */
        assert_false(hex_is_valid("0123456789abcde", 16));
        assert_false(hex_is_valid("0123456789abcdef0", 16));
        assert_false(hex_is_valid("0123456789abcdeg", 16));
        assert_false(hex_is_valid(NULL, 0));
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_utf8_is_printable),
                cmocka_unit_test(test_utf8_make_printable),
                cmocka_unit_test(test_identifier_is_valid),
                cmocka_unit_test(test_hex_is_valid),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
