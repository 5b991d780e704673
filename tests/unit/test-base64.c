/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "test-util.h"
#include "base64.h"

static void test_round_trip(void **state) {
        uint8_t data[256];

        for (size_t i = 0; i < sizeof(data); i++)
                data[i] = (uint8_t) (i * 7 + 3);
        for (size_t len = 0; len <= sizeof(data); len++) {
                _cleanup_free_ char *enc = base64_encode(data, len);
                _cleanup_free_ uint8_t *dec = NULL;
                size_t dlen;

                assert_non_null(enc);
                assert_int_equal(strlen(enc) % 4, 0);
                assert_int_equal(base64_decode(enc, strlen(enc), &dec, &dlen, NULL), 0);
                assert_int_equal(dlen, len);
                assert_memory_equal(dec, data, len);
        }
}

static void test_known(void **state) {
        static const struct {
                const char *plain, *enc;
        } table[] = {
                {"", ""}, {"f", "Zg=="}, {"fo", "Zm8="}, {"foo", "Zm9v"}, {"foobar", "Zm9vYmFy"},
        };
        for (size_t i = 0; i < ELEMENTSOF(table); i++) {
                _cleanup_free_ char *enc = base64_encode((const uint8_t *) table[i].plain, strlen(table[i].plain));
                assert_string_equal(enc, table[i].enc);
        }
}

static void test_rejects(void **state) {
        static const char *const bad[] = {"Zg=", "Zg===", "Z===", "Zm9v!mFy", "Zm9 YmFy", "=Zm9", "Zg=a",
                                          "Zm9vYmF", "Zm\n9v"};
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                _cleanup_free_ uint8_t *dec = NULL;
                CoreError err = {};
                size_t dlen;
                assert_true(base64_decode(bad[i], strlen(bad[i]), &dec, &dlen, &err) < 0);
                assert_true(strlen(err.message) > 0);
        }
}

/* Exactly one text decodes to given bytes: the bits of the last symbol that
 * encode nothing must be zero ("Zg==" is "f"; "Zh==" .. "Zv==" would be "f"
 * too for a lax decoder, as would "Zm9=" .. "Zm/=" for "fo"... but only
 * "Zm8=" is). */
static void test_canonical_only(void **state) {
        static const struct {
                const char *text;
                bool ok;
        } cases[] = {
                {"Zg==", true}, {"Zh==", false}, {"Zv==", false}, {"Zw==", true /* "g" */},
                {"Zm8=", true}, {"Zm9=", false}, {"Zm/=", false}, {"Zm9v", true},
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_free_ uint8_t *dec = NULL;
                CoreError err = {};
                size_t dlen;
                int r = base64_decode(cases[i].text, 4, &dec, &dlen, &err);
                if (cases[i].ok)
                        assert_int_equal(r, 0);
                else {
                        assert_int_equal(r, -EBADMSG);
                        assert_non_null(strstr(err.message, "not canonical"));
                }
        }
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_round_trip),
                cmocka_unit_test(test_known),
                cmocka_unit_test(test_rejects),
                cmocka_unit_test(test_canonical_only),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
