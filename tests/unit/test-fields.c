/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The field codec of core/fields.h on a made-up document that uses every
 * value kind (tests/fuzz/all-kinds.h), and its number validators. The real documents are covered in
 * test-license.c, test-request.c and test-store.c. */
#include "test-util.h"
#include "crypto.h"
#include "fields.h"
#include "license-key.h"
#include "strutil.h"

#include "../fuzz/all-kinds.h"

static char *pub_text, *key_text;

static int setup(void **state) {
        _cleanup_pkey_ EVP_PKEY *k = NULL;
        char key[LICENSE_KEY_STRING_SIZE];

        if (ed25519_generate(&k) < 0 || ed25519_public_base64(k, &pub_text) < 0 || license_key_generate(key) < 0)
                return -1;
        key_text = strdup(key);
        return key_text ? 0 : -1;
}

static int teardown(void **state) {
        free(pub_text);
        free(key_text);
        return 0;
}

static char *full_body(void) {
        char *body;

        assert_true(asprintf(&body,
                             "test-doc: 1\nnumber: 4294967295\ncount: 0\nwhen: 2026-01-01T00:00:00Z\nperiod: 2w\n"
                             "flag: yes\ncolor: blue\nid: acme-0001\nproduct: com.example.app\n"
                             "hex: 0123456789abcdef0123456789abcdef\npub: %s\nkey: %s\nurl: https://x.example\n"
                             "text: ten bytes!\nshort-hex: deadbeef\ntag: a\ntag: b\n",
                             pub_text, key_text) > 0);
        return body;
}

static void test_round_trip(void **state) {
        _cleanup_free_ char *body = full_body(), *again = NULL;
        _cleanup_(doc_done) Doc d = {};
        unsigned lines[_D_MAX] = {};
        uint32_t seen = 0;
        size_t len;

        assert_int_equal(document_decode(&doc_spec, body, strlen(body), &d, &seen, lines, NULL), 0);
        assert_int_equal(seen, (UINT32_C(1) << _D_MAX) - 1);
        assert_int_equal(lines[D_TAG], 17);
        assert_int_equal(d.number, UINT32_MAX);
        assert_int_equal(d.when, T0);
        assert_int_equal(d.period, 14 * SEC_PER_DAY);
        assert_true(d.flag);
        assert_int_equal(d.color, BLUE);
        assert_string_equal(d.inline_hex, "deadbeef");
        assert_string_equal(d.tags, "a,b");

        /* The canonical writer gives back the very bytes. */
        assert_int_equal(document_encode(&doc_spec, &d, FIELDS_ALL, &again, &len), 0);
        assert_int_equal(len, strlen(body));
        assert_memory_equal(again, body, len);
}

static void test_encode_leaves_out_unset(void **state) {
        _cleanup_free_ char *text = NULL;
        Doc d = {.number = 7, .color = -1, .period = -1};
        size_t len;

        /* No time, no duration, no enum value, no strings: only what is set,
         * and the numbers and the flag, which have no "unset". */
        assert_int_equal(document_encode(&doc_spec, &d, FIELDS_ALL, &text, &len), 0);
        assert_string_equal(text, "test-doc: 1\nnumber: 7\ncount: 0\nflag: no\n");
        free(text);
        text = NULL;
        assert_int_equal(document_encode(&doc_spec, &d, UINT32_C(1) << D_NUMBER, &text, &len), 0);
        assert_string_equal(text, "number: 7\n");
}

static void expect_error(const char *line, int code, const char *needle) {
        _cleanup_free_ char *body = NULL;
        _cleanup_(doc_done) Doc d = {};
        CoreError err = {};
        int r;

        assert_true(asprintf(&body, "test-doc: 1\nnumber: 1\n%s", line) > 0);
        r = document_decode(&doc_spec, body, strlen(body), &d, NULL, NULL, &err);
        if (r != code)
                fail_msg("%s: got %d, expected %d (%s)", line, r, code, core_error_message(&err, r));
        if (!strstr(err.message, needle))
                fail_msg("%s: expected '%s' in '%s'", line, needle, err.message);
}

static void expect_decodes(const char *lines) {
        _cleanup_free_ char *body = NULL;
        _cleanup_(doc_done) Doc d = {};
        CoreError err = {};
        int r;

        assert_true(asprintf(&body, "test-doc: 1\nnumber: 1\n%s", lines) > 0);
        r = document_decode(&doc_spec, body, strlen(body), &d, NULL, NULL, &err);
        if (r < 0)
                fail_msg("%s: %s", lines, core_error_message(&err, r));
}

static void test_one_validator_per_kind(void **state) {
        static const struct {
                const char *line, *needle;
        } table[] = {
                {"count: 01\n", "line 3: bad count"},
                {"count: -1\n", "bad count"},
                {"when: tomorrow\n", "line 3: when is not a UTC time"},
                {"period: soon\n", "period is not a duration"},
                {"flag: true\n", "flag must be yes or no"},
                {"color: pink\n", "unknown color (red, green or blue)"},
                {"id: ../x\n", "bad license id"},
                {"product: Not/Valid\n", "bad product id"},
                {"hex: 0123456789ABCDEF0123456789ABCDEF\n", "hex must be 32 lower-case hex digits"},
                {"short-hex: deadbeef0\n", "short-hex must be 8 lower-case hex digits"},
                {"pub: AAAA\n", "bad pub"},
                {"key: not-a-key\n", "line 3: key:"},
                {"url: ftp://x\n", "url must be http(s)"},
                {"text: eleven byte\n", "text is longer than 10 bytes"},
                {"number: 2\n", "line 3: 'number' appears twice"},
                {"unknown: 1\n", "line 3: unknown field 'unknown'"},
                {"test-doc: 1\n", "line 3: 'test-doc' appears twice"},
        };
        for (size_t i = 0; i < ELEMENTSOF(table); i++)
                expect_error(table[i].line, -EBADMSG, table[i].needle);
}

/* Each document has exactly one accepted encoding: a time, a duration or
 * the fields' order written another way than the writer writes them are
 * other bytes for the same document, and refused, after any more specific
 * error. */
static void test_one_encoding(void **state) {
        static const struct {
                const char *lines, *needle;
        } table[] = {
                {"when: 2026-01-01\n", "line 3: when must be written 2026-01-01T00:00:00Z"},
                {"period: 336h\n", "line 3: period must be written 2w"},
                {"period: 1209600\n", "line 3: period must be written 2w"},
                {"period: 14d\n", "line 3: period must be written 2w"},
                {"flag: yes\ncount: 1\n", "line 4: 'count' must come before 'flag'"},
                {"tag: a\nurl: https://x.example\ntag: b\n", "line 4: 'url' must come before 'tag'"},
                {"tag: a\ntext: x\n", "line 4: 'text' must come before 'tag'"},
                /* a more specific error first */
                {"flag: yes\ncount: 01\n", "line 4: bad count"},
                {"when: 2026-01-01\ncolor: pink\n", "unknown color"},
        };
        for (size_t i = 0; i < ELEMENTSOF(table); i++)
                expect_error(table[i].lines, -EBADMSG, table[i].needle);
        /* the writer's spelling and order decode */
        expect_decodes("when: 2026-01-01T00:00:00Z\nperiod: 2w\ntag: a\ntag: b\n");
}

static void test_version_and_required(void **state) {
        _cleanup_(doc_done) Doc d = {};
        CoreError err = {};

        assert_int_equal(document_decode(&doc_spec, "test-doc: 2\n", 12, &d, NULL, NULL, &err), -EPROTONOSUPPORT);
        assert_non_null(strstr(err.message, "test document format version 2 is not supported"));
        assert_int_equal(document_decode(&doc_spec, "number: 1\ntest-doc: 1\n", 22, &d, NULL, NULL, &err),
                         -EBADMSG);
        assert_non_null(strstr(err.message, "line 2: format line must come first"));
        assert_int_equal(document_decode(&doc_spec, "test-doc: 1\n", 12, &d, NULL, NULL, &err), -EBADMSG);
        assert_non_null(strstr(err.message, "required field 'number' is missing"));
        assert_int_equal(document_check_required(&doc_spec, UINT32_C(1) << D_NUMBER, UINT32_C(1) << D_URL,
                                                 "test", &err),
                         -EBADMSG);
        assert_non_null(strstr(err.message, "required field 'url' is missing from the test"));
}

/* A non-canonical spelling of the same key: the last symbol before "=" has
 * two bits that encode nothing. */
static void test_public_key_one_spelling(void **state) {
        _cleanup_free_ char *body = NULL, *bad = strdup(pub_text);
        _cleanup_(doc_done) Doc d = {};
        size_t n = strlen(bad);
        CoreError err = {};

        assert_int_equal(bad[n - 1], '=');
        bad[n - 2] = bad[n - 2] == 'z' ? 'y' : (char) (bad[n - 2] ^ 1);
        assert_true(asprintf(&body, "test-doc: 1\nnumber: 1\npub: %s\n", bad) > 0);
        assert_int_equal(document_decode(&doc_spec, body, strlen(body), &d, NULL, NULL, &err), -EBADMSG);
        assert_non_null(strstr(err.message, "line 3: bad pub"));
}

static void test_u32(void **state) {
        static const char *const good[] = {"0", "1", "10", "4294967295"};
        static const char *const bad[] = {"", "01", "00", "+1", "-1", " 1", "1 ", "1a", "0x10", "4294967296",
                                          "99999999999999999999"};
        uint32_t v;

        for (size_t i = 0; i < ELEMENTSOF(good); i++) {
                assert_int_equal(field_parse_u32(good[i], &v), 0);
                assert_int_equal(v, strtoul(good[i], NULL, 10));
        }
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                v = 12345;
                if (field_parse_u32(bad[i], &v) >= 0)
                        fail_msg("'%s' accepted as %u", bad[i], v);
                assert_int_equal(v, 12345); /* untouched on failure */
        }
}

static void test_count(void **state) {
        static const char *const body = "test-doc: 1\nnumber: 1\ncount: 9223372036854775807\n";
        _cleanup_(doc_done) Doc d = {};

        assert_int_equal(document_decode(&doc_spec, body, strlen(body), &d, NULL, NULL, NULL), 0);
        assert_true(d.count == INT64_MAX);
        expect_error("count: 9223372036854775808\n", -EBADMSG, "line 3: bad count");
        expect_error("count: 007\n", -EBADMSG, "line 3: bad count");
        expect_error("count: +7\n", -EBADMSG, "line 3: bad count");
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_round_trip),
                cmocka_unit_test(test_encode_leaves_out_unset),
                cmocka_unit_test(test_one_validator_per_kind),
                cmocka_unit_test(test_one_encoding),
                cmocka_unit_test(test_version_and_required),
                cmocka_unit_test(test_public_key_one_spelling),
                cmocka_unit_test(test_u32),
                cmocka_unit_test(test_count),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}
