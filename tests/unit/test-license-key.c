/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "license-key.h"

static const char alphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/* A valid key whose data symbols all differ from their neighbours and whose
 * groups all differ, so every transposition and swap below is a real change.
 * Computed independently of core/license-key.c (see docs/license-key.md). */
#define FIXED_KEY "7QK2G-ZP0X8-H4RTP-9ABCQ-MNPQ5"

/* Offset of symbol i (0..24) in a canonical key. */
static size_t symbol_offset(size_t i) {
        return i / LICENSE_KEY_GROUP_LEN * (LICENSE_KEY_GROUP_LEN + 1) + i % LICENSE_KEY_GROUP_LEN;
}

static void assert_canonical_shape(const char *key) {
        assert_int_equal(strlen(key), LICENSE_KEY_STRING_SIZE - 1);
        for (size_t i = 0; i < LICENSE_KEY_STRING_SIZE - 1; i++) {
                if (i % (LICENSE_KEY_GROUP_LEN + 1) == LICENSE_KEY_GROUP_LEN)
                        assert_int_equal(key[i], '-');
                else
                        assert_non_null(strchr(alphabet, key[i]));
        }
}

/* Expects input to be rejected with exactly the given message. */
static void assert_rejected(const char *input, const char *message) {
        char out[LICENSE_KEY_STRING_SIZE];
        CoreError err = {};
        int r;

        r = license_key_normalize(input, out, &err);
        if (r != -EINVAL)
                fail_msg("\"%s\" was accepted (r=%d), expected \"%s\"", input, r, message);
        if (!streq(err.message, message))
                fail_msg("\"%s\": got \"%s\", expected \"%s\"", input, err.message, message);
}

static void assert_accepted(const char *input, const char *canonical) {
        char out[LICENSE_KEY_STRING_SIZE];
        CoreError err = {};
        int r;

        r = license_key_normalize(input, out, &err);
        if (r != 0)
                fail_msg("\"%s\" was rejected (r=%d): %s", input, r, err.message);
        assert_string_equal(out, canonical);
}

static void check_message(char *buf, size_t size, size_t group) {
        snprintf(buf, size, "group %zu looks wrong (check symbol does not match): please retype it", group);
}

static void test_known_vectors(void **state) {
        /* Check symbols computed by a separate reference implementation of
         * c = g + a v0 + a^2 v1 + a^3 v2 + a^4 v3 in GF(32)/(x^5+x^2+1). */
        static const char *const keys[] = {
                "00001-00002-00003-00004-00005", /* all-zero data: check = group number */
                FIXED_KEY,
                "ZZZZC-YYYYH-1234V-ABCDR-WXYZE", /* exercises the reduction by x^5+x^2+1 */
        };

        (void) state;
        for (size_t i = 0; i < ELEMENTSOF(keys); i++)
                assert_accepted(keys[i], keys[i]);
}

static int compare_keys(const void *a, const void *b) {
        return strcmp(a, b);
}

static void test_generate_round_trip(void **state) {
        static char keys[1000][LICENSE_KEY_STRING_SIZE];
        bool seen[32] = {};

        (void) state;
        for (size_t n = 0; n < ELEMENTSOF(keys); n++) {
                char out[LICENSE_KEY_STRING_SIZE], sloppy[LICENSE_KEY_STRING_SIZE], *p = sloppy;

                assert_int_equal(license_key_generate(keys[n]), 0);
                assert_canonical_shape(keys[n]);
                assert_accepted(keys[n], keys[n]);

                /* Same key typed lower case, without dashes. */
                for (const char *c = keys[n]; *c; c++)
                        if (*c != '-')
                                *p++ = (char) (*c >= 'A' && *c <= 'Z' ? *c - 'A' + 'a' : *c);
                *p = '\0';
                assert_accepted(sloppy, keys[n]);

                license_key_mask(keys[n], out);
                assert_memory_equal(out, keys[n], LICENSE_KEY_GROUP_LEN);
                assert_memory_equal(out + LICENSE_KEY_GROUP_LEN, "-*****-*****-*****-", 19);
                assert_string_equal(out + 24, keys[n] + 24);

                for (size_t i = 0; i < LICENSE_KEY_GROUPS * LICENSE_KEY_GROUP_LEN; i++)
                        if (i % LICENSE_KEY_GROUP_LEN != LICENSE_KEY_GROUP_LEN - 1)
                                seen[strchr(alphabet, keys[n][symbol_offset(i)]) - alphabet] = true;
        }

        /* 20000 random data symbols: every one of the 32 must show up. */
        for (size_t i = 0; i < ELEMENTSOF(seen); i++)
                if (!seen[i])
                        fail_msg("symbol '%c' never generated", alphabet[i]);

        /* 100 random bits each: no two alike. */
        qsort(keys, ELEMENTSOF(keys), sizeof(keys[0]), compare_keys);
        for (size_t n = 1; n < ELEMENTSOF(keys); n++)
                assert_string_not_equal(keys[n - 1], keys[n]);
}

static void test_accepted_spellings(void **state) {
        static const struct {
                const char *input;
                const char *canonical;
        } table[] = {
                { "7qk2g-zp0x8-h4rtp-9abcq-mnpq5", FIXED_KEY },
                { "7QK2GZP0X8H4RTP9ABCQMNPQ5", FIXED_KEY },
                { "7qk2gzp0x8h4rtp9abcqmnpq5", FIXED_KEY },
                { "7QK2G ZP0X8 H4RTP 9ABCQ MNPQ5", FIXED_KEY },
                { "7QK2G - ZP0X8 - H4RTP - 9ABCQ - MNPQ5", FIXED_KEY },
                { "  7QK2G-ZP0X8-H4RTP-9ABCQ-MNPQ5\n", FIXED_KEY },
                { "7Q K2G-ZP 0X8-H4R TP-9A BCQ-M NPQ5", FIXED_KEY },
                { "\t7QK2G\tZP0X8\r\nH4RTP\v9ABCQ\fMNPQ5", FIXED_KEY },
                { "7QK2G-ZPOX8-H4RTP-9ABCQ-MNPQ5", FIXED_KEY },            /* O for 0 */
                { "7qk2g-zpox8-h4rtp-9abcq-mnpq5", FIXED_KEY },            /* o for 0 */
                { "ZZZZC-YYYYH-I234V-ABCDR-WXYZE", "ZZZZC-YYYYH-1234V-ABCDR-WXYZE" },
                { "ZZZZC-YYYYH-L234V-ABCDR-WXYZE", "ZZZZC-YYYYH-1234V-ABCDR-WXYZE" },
                { "zzzzc-yyyyh-i234v-abcdr-wxyze", "ZZZZC-YYYYH-1234V-ABCDR-WXYZE" },
                { "zzzzc-yyyyh-l234v-abcdr-wxyze", "ZZZZC-YYYYH-1234V-ABCDR-WXYZE" },
                { "OOOOI-oooo2-0Oo03-OOOO4-0ooo5", "00001-00002-00003-00004-00005" },
                { "0000l0000200003000040000 5", "00001-00002-00003-00004-00005" },
        };

        (void) state;
        for (size_t i = 0; i < ELEMENTSOF(table); i++)
                assert_accepted(table[i].input, table[i].canonical);
}

static void test_rejected_inputs(void **state) {
        static const struct {
                const char *input;
                const char *message;
        } table[] = {
                { "", "no license key given" },
                { "   \t\n", "no license key given" },
                { "-----", "no license key given" },
                { "7QK2G-ZP0X8-H4RTP-9ABCQ", "the key has 4 groups, expected 5" },
                { "7QK2G", "the key has 5 characters, expected 25 (5 groups of 5)" },
                { "7QK2G-ZP0X8-H4RTP-9ABCQ-MNPQ5-00000", "the key has 6 groups, expected 5" },
                { "7QK2G-ZP0X8-H4RTP-9ABCQ-MNPQ5-", "the key has 6 groups, expected 5" },
                { "7QK2G--ZP0X8-H4RTP-9ABCQ-MNPQ5", "the key has 6 groups, expected 5" },
                { "7QK2G-ZP0X8-H4RT-9ABCQ-MNPQ5", "group 3 has 4 characters, expected 5" },
                { "7QK2G-ZP0X8-H4RTPP-9ABCQ-MNPQ5", "group 3 has 6 characters, expected 5" },
                { "7QK2GZP0X8-H4RTP-9ABCQ-MNPQ5-", "group 1 has 10 characters, expected 5" },
                { "7QK2GZP0X8H4RTP9ABCQMNPQ", "the key has 24 characters, expected 25 (5 groups of 5)" },
                { "7QK2GZP0X8H4RTP9ABCQMNPQ55", "the key has 26 characters, expected 25 (5 groups of 5)" },
                { "7QK2G-ZU0X8-H4RTP-9ABCQ-MNPQ5", "'U' in group 2 is not a license key character" },
                { "7qk2g-zu0x8-h4rtp-9abcq-mnpq5", "'u' in group 2 is not a license key character" },
                { "7QK2GZU0X8H4RTP9ABCQMNPQ5", "'U' in group 2 is not a license key character" },
                { "7QK2G-ZP0X8-H4RTP-9ABCQ-MNPQ5!", "'!' in group 5 is not a license key character" },
                { "7QK2G_ZP0X8-H4RTP-9ABCQ-MNPQ5", "'_' in group 1 is not a license key character" },
                { "7QK2G.ZP0X8.H4RTP.9ABCQ.MNPQ5", "'.' in group 2 is not a license key character" },
                { "7QK2G-ZP0X8-H4RTP-9AB*Q-MNPQ5", "'*' in group 4 is not a license key character" },
                { "7QK2G-ZP0X8-H4RTP-9ABCQ-MNPQ\xc3\xa9",
                  "a non-ASCII character in group 5 is not a license key character" },
                { "7QK2G-ZP0X8-H4\x01TP-9ABCQ-MNPQ5",
                  "control character 0x01 in group 3 is not a license key character" },
                /* A bad character is named even when the count is also off. */
                { "7QK2G-ZU0X8", "'U' in group 2 is not a license key character" },
                { "7QK2G-ZP0X8-H4RTP-9ABCQ-MNPQ6",
                  "group 5 looks wrong (check symbol does not match): please retype it" },
                /* Several wrong groups: the first is named. */
                { "7QK2G-ZP0X9-H4RTP-9ABCR-MNPQ6",
                  "group 2 looks wrong (check symbol does not match): please retype it" },
                { "7QK2GZP0X8H4RTP9ABCRMNPQ5",
                  "group 4 looks wrong (check symbol does not match): please retype it" },
        };

        (void) state;
        for (size_t i = 0; i < ELEMENTSOF(table); i++)
                assert_rejected(table[i].input, table[i].message);
}

static void test_null_and_no_err(void **state) {
        char out[LICENSE_KEY_STRING_SIZE];

        (void) state;
        assert_rejected(NULL, "no license key given");
        assert_int_equal(license_key_normalize(NULL, out, NULL), -EINVAL);
        assert_int_equal(license_key_normalize("7QK2G-ZU0X8-H4RTP-9ABCQ-MNPQ5", out, NULL), -EINVAL);
        assert_int_equal(license_key_normalize(FIXED_KEY, out, NULL), 0);
        assert_string_equal(out, FIXED_KEY);
}

static void test_too_long(void **state) {
        char input[256];

        (void) state;
        /* 200 characters with the key among them is fine... */
        memset(input, ' ', sizeof(input));
        memcpy(input + 100, FIXED_KEY, strlen(FIXED_KEY));
        input[200] = '\0';
        assert_accepted(input, FIXED_KEY);

        /* ...201 is refused before anything is looked at. */
        input[200] = ' ';
        input[201] = '\0';
        assert_rejected(input, "the input is too long to be a license key (more than 200 characters)");

        memset(input, 'U', sizeof(input) - 1);
        input[sizeof(input) - 1] = '\0';
        assert_rejected(input, "the input is too long to be a license key (more than 200 characters)");
}

/* Every symbol replaced by each of the 31 others must be caught, naming the
 * symbol's group. */
static void assert_all_substitutions_caught(const char *valid) {
        char message[128];

        for (size_t i = 0; i < LICENSE_KEY_GROUPS * LICENSE_KEY_GROUP_LEN; i++) {
                size_t off = symbol_offset(i);

                check_message(message, sizeof(message), i / LICENSE_KEY_GROUP_LEN + 1);
                for (size_t s = 0; s < 32; s++) {
                        char key[LICENSE_KEY_STRING_SIZE];

                        if (alphabet[s] == valid[off])
                                continue;
                        memcpy(key, valid, sizeof(key));
                        key[off] = alphabet[s];
                        assert_rejected(key, message);
                }
        }
}

static void test_substitutions_fixed_key(void **state) {
        (void) state;
        assert_all_substitutions_caught(FIXED_KEY);
        assert_all_substitutions_caught("00001-00002-00003-00004-00005");
}

static void test_substitutions_generated_keys(void **state) {
        (void) state;
        for (size_t n = 0; n < 100; n++) {
                char key[LICENSE_KEY_STRING_SIZE];

                assert_int_equal(license_key_generate(key), 0);
                assert_all_substitutions_caught(key);
        }
}

/* Swapping two neighbouring symbols within a group (data with data, and the
 * last data symbol with the check symbol) must be caught. */
static size_t assert_all_transpositions_caught(const char *valid) {
        char message[128];
        size_t tried = 0;

        for (size_t g = 0; g < LICENSE_KEY_GROUPS; g++) {
                check_message(message, sizeof(message), g + 1);
                for (size_t i = 0; i + 1 < LICENSE_KEY_GROUP_LEN; i++) {
                        size_t off = symbol_offset(g * LICENSE_KEY_GROUP_LEN + i);
                        char key[LICENSE_KEY_STRING_SIZE];

                        if (valid[off] == valid[off + 1])
                                continue;
                        memcpy(key, valid, sizeof(key));
                        key[off] = valid[off + 1];
                        key[off + 1] = valid[off];
                        assert_rejected(key, message);
                        tried++;
                }
        }
        return tried;
}

static void test_transpositions(void **state) {
        (void) state;

        /* FIXED_KEY has no equal neighbours: all 5 x 4 swaps are real. */
        assert_int_equal(assert_all_transpositions_caught(FIXED_KEY), 20);

        for (size_t n = 0; n < 1000; n++) {
                char key[LICENSE_KEY_STRING_SIZE];

                assert_int_equal(license_key_generate(key), 0);
                assert_all_transpositions_caught(key);
        }
}

/* Two whole groups swapped must be caught, naming the first of them. */
static void assert_all_group_swaps_caught(const char *valid) {
        char message[128];

        for (size_t a = 0; a < LICENSE_KEY_GROUPS; a++)
                for (size_t b = a + 1; b < LICENSE_KEY_GROUPS; b++) {
                        char key[LICENSE_KEY_STRING_SIZE];
                        size_t oa = a * (LICENSE_KEY_GROUP_LEN + 1), ob = b * (LICENSE_KEY_GROUP_LEN + 1);

                        if (memcmp(valid + oa, valid + ob, LICENSE_KEY_GROUP_LEN) == 0)
                                continue;
                        memcpy(key, valid, sizeof(key));
                        memcpy(key + oa, valid + ob, LICENSE_KEY_GROUP_LEN);
                        memcpy(key + ob, valid + oa, LICENSE_KEY_GROUP_LEN);
                        check_message(message, sizeof(message), a + 1);
                        assert_rejected(key, message);
                }
}

static void test_group_swaps(void **state) {
        (void) state;
        assert_all_group_swaps_caught(FIXED_KEY);

        for (size_t n = 0; n < 1000; n++) {
                char key[LICENSE_KEY_STRING_SIZE];

                assert_int_equal(license_key_generate(key), 0);
                assert_all_group_swaps_caught(key);
        }
}

static void test_mask(void **state) {
        static const struct {
                const char *input;
                const char *masked;
        } table[] = {
                { FIXED_KEY, "7QK2G-*****-*****-*****-MNPQ5" },
                { "00001-00002-00003-00004-00005", "00001-*****-*****-*****-00005" },
                /* Not canonical: nothing shown. */
                { "", "*****-*****-*****-*****-*****" },
                { "7QK2G", "*****-*****-*****-*****-*****" },
                { "7QK2GZP0X8H4RTP9ABCQMNPQ5", "*****-*****-*****-*****-*****" },
                { FIXED_KEY "-", "*****-*****-*****-*****-*****" },
        };
        char out[LICENSE_KEY_STRING_SIZE];

        (void) state;
        for (size_t i = 0; i < ELEMENTSOF(table); i++) {
                license_key_mask(table[i].input, out);
                assert_string_equal(out, table[i].masked);
        }

        license_key_mask(NULL, out);
        assert_string_equal(out, "*****-*****-*****-*****-*****");
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_known_vectors),
                cmocka_unit_test(test_generate_round_trip),
                cmocka_unit_test(test_accepted_spellings),
                cmocka_unit_test(test_rejected_inputs),
                cmocka_unit_test(test_null_and_no_err),
                cmocka_unit_test(test_too_long),
                cmocka_unit_test(test_substitutions_fixed_key),
                cmocka_unit_test(test_substitutions_generated_keys),
                cmocka_unit_test(test_transpositions),
                cmocka_unit_test(test_group_swaps),
                cmocka_unit_test(test_mask),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
