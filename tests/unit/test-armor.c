/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "test-util.h"
#include "armor.h"

static EVP_PKEY *key;

static int setup(void **state) {
        return ed25519_generate(&key);
}

static int teardown(void **state) {
        EVP_PKEY_free(key);
        return 0;
}

static const char body[] = "hello: world\n";

static char *make(void) {
        char *text = NULL;
        assert_int_equal(armor_sign(key, "LICENSE", (const uint8_t *) body, strlen(body), &text), 0);
        return text;
}

static void test_round_trip(void **state) {
        _cleanup_free_ char *text = make();
        _cleanup_(armor_done) Armor a = {};

        assert_non_null(strstr(text, "-----BEGIN LICENSED LICENSE-----\nKey-Id: "));
        assert_int_equal(armor_decode(text, strlen(text), "LICENSE", &a, NULL), 0);
        assert_string_equal(a.kind, "LICENSE");
        assert_int_equal(a.body_len, strlen(body));
        assert_memory_equal(a.body, body, a.body_len);
        assert_int_equal(armor_verify(&a, key, NULL), 0);
}

/* What mail clients, editors and paper do to text must not matter. */
static void test_tolerant(void **state) {
        _cleanup_free_ char *text = make();
        size_t n = strlen(text);
        _cleanup_free_ char *crlf = malloc(2 * n + 1), *indented = malloc(4 * n + 200);
        char *p = crlf, *q = indented;

        for (size_t i = 0; i < n; i++) {
                if (text[i] == '\n')
                        *p++ = '\r';
                *p++ = text[i];
        }
        *p = 0;
        q += sprintf(q, "Dear customer,\nhere is your license:\n\n");
        for (size_t i = 0; i < n; i++) {
                if (i == 0 || text[i - 1] == '\n')
                        q += sprintf(q, "    ");
                if (text[i] == '\n')
                        q += sprintf(q, "  \t");
                *q++ = text[i];
        }
        q += sprintf(q, "\nRegards,\nThe vendor\n");
        *q = 0;

        const char *variants[] = {crlf, indented};
        for (size_t i = 0; i < ELEMENTSOF(variants); i++) {
                _cleanup_(armor_done) Armor a = {};
                assert_int_equal(armor_decode(variants[i], strlen(variants[i]), "LICENSE", &a, NULL), 0);
                assert_int_equal(armor_verify(&a, key, NULL), 0);
                assert_memory_equal(a.body, body, a.body_len);
        }
}

static void expect_error(const char *text, const char *kind, const char *needle) {
        _cleanup_(armor_done) Armor a = {};
        CoreError err = {};

        assert_true(armor_decode(text, strlen(text), kind, &a, &err) < 0);
        if (!strstr(err.message, needle))
                fail_msg("expected '%s' in '%s'", needle, err.message);
}

static void test_truncated(void **state) {
        char *text = make();
        size_t n = strlen(text);

        /* Every truncation is an error, never a shorter document. */
        for (size_t cut = 0; cut < n - 1; cut++) {
                char *t = strndup(text, cut);
                Armor a = {};
                CoreError err = {};
                assert_true(armor_decode(t, cut, "LICENSE", &a, &err) < 0);
                assert_true(strlen(err.message) > 0);
                armor_done(&a);
                free(t);
        }
        strstr(text, "-----END")[0] = 0;
        expect_error(text, "LICENSE", "truncated");
        free(text);
}

static void test_garbage(void **state) {
        expect_error("", "LICENSE", "no '-----BEGIN");
        expect_error("just some text\n", "LICENSE", "no '-----BEGIN");
        expect_error("-----BEGIN LICENSED RECEIPT-----\n", "LICENSE", "not a LICENSE");
        expect_error("-----BEGIN LICENSED LICENSE-----\nKey-Id: 0011223344556677\n\nAAAA\n"
                     "-----END LICENSED LICENSE-----\n",
                     "LICENSE", "Signature header is missing");
        expect_error("-----BEGIN LICENSED LICENSE-----\nFoo: bar\n\nAAAA\n-----END LICENSED LICENSE-----\n",
                     "LICENSE", "unknown armor header");
        expect_error("-----BEGIN LICENSED LICENSE-----\nKey-Id: xyz\n\nAAAA\n-----END LICENSED LICENSE-----\n",
                     "LICENSE", "16 hex");
        expect_error("-----BEGIN LICENSED LICENSE-----\nKey-Id: 0011223344556677\nSignature: AAAA\n\nAAAA\n"
                     "-----END LICENSED LICENSE-----\n",
                     "LICENSE", "3 bytes, expected 64");
        expect_error("-----BEGIN LICENSED LICENSE-----\nhello\x01\n-----END LICENSED LICENSE-----\n", "LICENSE",
                     "Name: value");

        char *text = make();
        strstr(text, "\n\n")[3] = '!';
        expect_error(text, "LICENSE", "invalid base64");
        free(text);

        /* One body, one armored form: a line break turned into a vertical
         * tab (or a space inside a line) is not a line break. */
        text = make();
        *strchr(strstr(text, "\n\n") + 2, '\n') = '\v';
        expect_error(text, "LICENSE", "invalid base64 character 0x0b (white space)");
        free(text);
        text = make();
        strstr(text, "\n\n")[4] = ' ';
        expect_error(text, "LICENSE", "invalid base64 character 0x20");
        free(text);

        char *huge = calloc(1, ARMOR_MAX_SIZE + 2);
        memset(huge, 'A', ARMOR_MAX_SIZE + 1);
        expect_error(huge, "LICENSE", "more than");
        free(huge);
}

static void test_wrong_key(void **state) {
        _cleanup_free_ char *text = make();
        _cleanup_(armor_done) Armor a = {};
        _cleanup_pkey_ EVP_PKEY *other = NULL;
        CoreError err = {};

        assert_int_equal(ed25519_generate(&other), 0);
        assert_int_equal(armor_decode(text, strlen(text), NULL, &a, NULL), 0);
        assert_int_equal(armor_verify(&a, other, &err), -ENOKEY);
        assert_non_null(strstr(err.message, "not by the expected key"));
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_round_trip),
                cmocka_unit_test(test_tolerant),
                cmocka_unit_test(test_truncated),
                cmocka_unit_test(test_garbage),
                cmocka_unit_test(test_wrong_key),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}
