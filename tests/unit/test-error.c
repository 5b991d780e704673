/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* CoreError messages quote untrusted bytes and are cut to size; they must
 * still be printable UTF-8, because they go into D-Bus errors and onto
 * terminals. The fuzz regressions in tests/fuzz/regressions/ found the
 * cases below through real parsers; here they are checked directly. */
#include "test-util.h"
#include "error.h"
#include "strutil.h"
#include "timeutil.h"

static void test_make_printable_table(void **state) {
        static const struct {
                const char *in, *out;
        } table[] = {
                {"", ""},
                {"plain ascii", "plain ascii"},
                {"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x94\x91", "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x94\x91"},
                {"cut \xc3", "cut ?"},                       /* a character cut in half at the end */
                {"cut \xe2\x82", "cut ??"},                  /* three bytes, two kept */
                {"esc \x1b[31mred", "esc ?[31mred"},          /* a terminal escape sequence */
                {"tab\there\nnl\x7f", "tab?here?nl?"},        /* controls, tab and DEL included */
                {"c1 \xc2\x9b", "c1 ??"},                    /* C1 control (CSI) */
                {"overlong \xc0\xaf", "overlong ??"},        /* overlong '/' */
                {"surrogate \xed\xa0\x80", "surrogate ???"}, /* U+D800 */
                {"stray \x80\xbf", "stray ??"},              /* continuation bytes alone */
                {"too big \xf4\x90\x80\x80", "too big ????"}, /* beyond U+10FFFF */
                {"nonchar \xef\xbf\xbe", "nonchar ???"},         /* U+FFFE, refused by sd-bus */
                {"nonchar \xef\xb7\x90", "nonchar ???"},         /* U+FDD0 */
                {"nonchar \xf0\x9f\xbf\xbf", "nonchar ????"},    /* U+1FFFF */
                {"fine \xef\xbf\xbd", "fine \xef\xbf\xbd"},      /* U+FFFD, the replacement character */
        };
        for (size_t i = 0; i < ELEMENTSOF(table); i++) {
                char buf[64];

                snprintf(buf, sizeof(buf), "%s", table[i].in);
                assert_ptr_equal(utf8_make_printable(buf), buf);
                assert_string_equal(buf, table[i].out);
                assert_true(utf8_is_printable(buf, strlen(buf), false));
        }
}

static void test_error_set_is_printable(void **state) {
        CoreError err = {};
        char name[600];

        /* A quoted name cut by a precision in the middle of 'é'. */
        assert_int_equal(core_error_set(&err, EINVAL, "unknown header '%.5s'", "abcd\xc3\xa9"), -EINVAL);
        assert_string_equal(err.message, "unknown header 'abcd?'");
        /* The same with a positive or negative errno. */
        assert_int_equal(core_error_set(&err, -EBADMSG, "x\x1b"), -EBADMSG);
        assert_string_equal(err.message, "x?");

        /* Cut by the size of the message buffer inside a character. */
        memset(name, 'a', sizeof(name));
        for (size_t i = 0; i + 1 < sizeof(name); i += 2)
                memcpy(name + i, "\xc3\xa9", 2);
        name[sizeof(name) - 1] = 0;
        core_error_set(&err, EINVAL, "x%s", name);
        assert_true(utf8_is_printable(err.message, strlen(err.message), false));
        assert_int_equal(strlen(err.message), sizeof(err.message) - 1);
}

static void test_error_prefix_is_printable(void **state) {
        CoreError err = {};
        char prefix[300];

        core_error_set(&err, EINVAL, "value is bad");
        core_error_prefix(&err, "%s: ", "file\x1b.conf");
        assert_string_equal(err.message, "file?.conf: value is bad");

        /* A prefix that fills the message up to a cut character. */
        memset(prefix, 'p', sizeof(prefix));
        prefix[sizeof(prefix) - 1] = 0;
        core_error_set(&err, EINVAL, "%s\xc3\xa9\xc3\xa9", prefix);
        core_error_prefix(&err, "%s", prefix);
        assert_true(utf8_is_printable(err.message, strlen(err.message), false));
}

static void test_parser_messages_are_printable(void **state) {
        /* what tests/fuzz/regressions/timeutil/ found */
        static const char *const inputs[] = {"2026-01-01\x1b[2J", "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3"
                                                                 "\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3"
                                                                 "\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3"
                                                                 "\xa9\xc3\xa9\xc3\xa9\xc3\xa9"};
        for (size_t i = 0; i < ELEMENTSOF(inputs); i++) {
                CoreError err = {};
                int64_t t;

                assert_true(time_parse_rfc3339(inputs[i], &t, &err) < 0);
                assert_true(err.message[0]);
                assert_true(utf8_is_printable(err.message, strlen(err.message), false));
                err = (CoreError) {};
                assert_true(duration_parse(inputs[i], &t, &err) < 0);
                assert_true(utf8_is_printable(err.message, strlen(err.message), false));
        }
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_make_printable_table),
                cmocka_unit_test(test_error_set_is_printable),
                cmocka_unit_test(test_error_prefix_is_printable),
                cmocka_unit_test(test_parser_messages_are_printable),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
