/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "test-capture.h"
#include "verbs.h"

static int verb_count(int argc, char *argv[], void *userdata) {
        int *calls = userdata;

        (*calls)++;
        return argc;
}

static int verb_fail(int argc, char *argv[], void *userdata) {
        return -ENOKEY;
}

static const Verb verbs[] = {
        {"none", 1, 1, verb_count},
        {"one-or-two", 2, 3, verb_count},
        {"any", 1, VERB_ANY, verb_count},
        {"fail", 1, 1, verb_fail},
        {},
};

/* Dispatches argv (NULL-terminated) and returns the result; what was
 * printed goes to *ret_err. */
static int dispatch(char **argv, int *calls, char **ret_err) {
        Capture c;
        int argc = 0, r;

        while (argv[argc])
                argc++;
        capture_start(&c);
        r = dispatch_verb("tool", argc, argv, verbs, calls);
        *ret_err = capture_end(&c);
        return r;
}

static void test_dispatch(void **state) {
        static const struct {
                const char *args[6];
                int result;
                int calls;
                const char *message;
        } table[] = {
                {{"none"}, 1, 1, ""},
                {{"one-or-two", "a"}, 2, 1, ""},
                {{"one-or-two", "a", "b"}, 3, 1, ""},
                {{"any"}, 1, 1, ""},
                {{"any", "a", "b", "c", "d"}, 5, 1, ""},
                {{"fail"}, -ENOKEY, 0, ""}, /* the verb's own result */
                {{"none", "a"}, -EINVAL, 0, "tool none: too many arguments; see 'tool --help'.\n"},
                {{"one-or-two"}, -EINVAL, 0, "tool one-or-two: too few arguments; see 'tool --help'.\n"},
                {{"one-or-two", "a", "b", "c"},
                 -EINVAL,
                 0,
                 "tool one-or-two: too many arguments; see 'tool --help'.\n"},
                {{"nonesuch"}, -EINVAL, 0, "tool: unknown command 'nonesuch'; see 'tool --help'.\n"},
                {{"NONE"}, -EINVAL, 0, "tool: unknown command 'NONE'; see 'tool --help'.\n"},
                {{}, -EINVAL, 0, "tool: a command is needed; see 'tool --help'.\n"},
        };

        for (size_t i = 0; i < ELEMENTSOF(table); i++) {
                char *argv[6] = {};
                char *err;
                int calls = 0;

                for (size_t j = 0; table[i].args[j]; j++)
                        argv[j] = (char *) table[i].args[j];
                assert_int_equal(dispatch(argv, &calls, &err), table[i].result);
                assert_int_equal(calls, table[i].calls);
                assert_string_equal(err, table[i].message);
                free(err);
        }
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_dispatch),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
