/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The strict JSON reader shared by licensed (server answers) and
 * licensed-server (requests). */
#include "test-util.h"
#include "json-object.h"

static void test_parse_table(void **state) {
        static const struct {
                const char *body;
                size_t len; /* 0: strlen(body) */
                int expected;
                const char *message; /* a part of the error message */
        } table[] = {
                {"{}", 0, 0, NULL},
                {"{\"license\": \"x\"}\r\n \t", 0, 0, NULL},
                {" {\"a\": [1, {\"b\": null}]}", 0, 0, NULL},
                {"", 0, -EBADMSG, "empty"},
                {"{\"a\": \"b\"", 0, -EBADMSG, "ends too early"},
                {"{\"a\": 1} x", 0, -EBADMSG, "not valid JSON"},  /* text after the value */
                {"{\"a\": 1}{}", 0, -EBADMSG, "not valid JSON"},
                {"{\"a\": 1,}", 0, -EBADMSG, "not valid JSON"},   /* strict: no trailing comma */
                {"{\"a\": \"\xff\xfe\"}", 0, -EBADMSG, "not valid JSON"},
                {"{\"a\": \"b\0c\"}", 12, -EBADMSG, "NUL byte"},
                {"{\"a\": \"b\\u0000c\"}", 0, -EBADMSG, "NUL character"},
                {"{\"a\\u0000\": \"b\"}", 0, -EBADMSG, "NUL character"},
                {"{\"a\": \"\\\\u0000\"}", 0, 0, NULL}, /* an escaped backslash, then text */
                {"{\"a\": \"\\u00001\"}", 0, -EBADMSG, "NUL character"},
                {"[1, 2]", 0, -EDOM, "not an object"},
                {"\"text\"", 0, -EDOM, "not an object"},
                {"<html>proxy error</html>", 0, -EBADMSG, "not valid JSON"},
        };
        for (size_t i = 0; i < ELEMENTSOF(table); i++) {
                json_object *o = NULL;
                CoreError err = {};
                size_t len = table[i].len ?: strlen(table[i].body);
                int r = json_parse_object(table[i].body, len, &o, &err);

                if (r != table[i].expected)
                        fail_msg("case %zu (%s): %d, expected %d (%s)", i, table[i].body, r, table[i].expected,
                                 err.message);
                if (r == 0) {
                        assert_non_null(o);
                        json_object_put(o);
                } else {
                        assert_null(o);
                        assert_non_null(strstr(err.message, table[i].message));
                }
        }
}

static void test_parse_depth_and_bounds(void **state) {
        char deep[8 * (JSON_DEPTH_MAX + 1) + 1], *p = deep;
        json_object *o = NULL;
        CoreError err = {};

        /* JSON_DEPTH_MAX + 1 levels of objects, complete: {"a":{"a":...{}...}} */
        for (int i = 0; i < JSON_DEPTH_MAX; i++)
                p += sprintf(p, "{\"a\":");
        p += sprintf(p, "{}");
        for (int i = 0; i < JSON_DEPTH_MAX; i++)
                p += sprintf(p, "}");
        assert_true((size_t) (p - deep) < sizeof(deep));
        assert_int_equal(json_parse_object(deep, strlen(deep), &o, &err), -EBADMSG);
        assert_non_null(strstr(err.message, "not valid JSON"));
        /* one level less is fine */
        assert_int_equal(json_parse_object(deep + 5, strlen(deep) - 6, &o, &err), 0);
        json_object_put(o);

        /* The length is the end: bytes after it are never read, even if they
         * would make the text valid or invalid. */
        assert_int_equal(json_parse_object("{} x", 2, &o, NULL), 0);
        json_object_put(o);
        assert_int_equal(json_parse_object("{\"a\": 1}", 5, &o, NULL), -EBADMSG);
}

static void test_get_string(void **state) {
        json_object *o = NULL;
        const char *v = (const char *) 1;
        CoreError err = {};

        assert_int_equal(json_parse_object("{\"s\": \"yes\", \"n\": null, \"i\": 5, \"o\": {}}", 40, &o, NULL), 0);
        assert_int_equal(json_get_string(o, "s", true, &v, &err), 0);
        assert_string_equal(v, "yes");
        assert_int_equal(json_get_string(o, "n", false, &v, &err), 0);
        assert_null(v);
        assert_int_equal(json_get_string(o, "missing", false, &v, &err), 0);
        assert_null(v);
        assert_int_equal(json_get_string(o, "missing", true, &v, &err), -ENOENT);
        assert_string_equal(err.message, "there is no \"missing\"");
        assert_int_equal(json_get_string(o, "n", true, &v, &err), -ENOENT);
        assert_int_equal(json_get_string(o, "i", false, &v, &err), -EBADMSG);
        assert_string_equal(err.message, "\"i\" is not a string");
        assert_int_equal(json_get_string(o, "o", true, &v, &err), -EBADMSG);
        json_object_put(o);
}

static void test_error_message(void **state) {
        json_object *o = NULL;

        assert_null(json_error_message(NULL));
        assert_int_equal(json_parse_object("{\"error\": {\"code\": \"x\", \"message\": \"seat limit\"}}", 49, &o, NULL),
                         0);
        assert_string_equal(json_error_message(o), "seat limit");
        json_object_put(o);
        assert_int_equal(json_parse_object("{\"error\": {\"message\": 3}}", 25, &o, NULL), 0);
        assert_null(json_error_message(o));
        json_object_put(o);
        assert_int_equal(json_parse_object("{\"error\": \"flat\"}", 17, &o, NULL), 0);
        assert_null(json_error_message(o));
        json_object_put(o);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_parse_table),
                cmocka_unit_test(test_parse_depth_and_bounds),
                cmocka_unit_test(test_get_string),
                cmocka_unit_test(test_error_message),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
