/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "test-util.h"
#include "evaluate.h"
#include "fileio.h"
#include "strutil.h"

static EVP_PKEY *vendor_key, *device_key;
static char *device_pub;

static int setup(void **state) {
        if (ed25519_generate(&vendor_key) < 0 || ed25519_generate(&device_key) < 0)
                return -1;
        return ed25519_public_base64(device_key, &device_pub);
}

static int teardown(void **state) {
        EVP_PKEY_free(vendor_key);
        EVP_PKEY_free(device_key);
        free(device_pub);
        return 0;
}

static char *sign_test_license(void) {
        _cleanup_(license_done) License l = LICENSE_INIT;
        char *text = NULL;

        test_license_fill(&l, device_pub);
        assert_int_equal(license_sign(&l, vendor_key, &text), 0);
        return text;
}

static void test_round_trip(void **state) {
        _cleanup_free_ char *text = sign_test_license();
        _cleanup_(license_done) License l = LICENSE_INIT;

        assert_int_equal(license_verify_with_key(text, strlen(text), vendor_key, &l, NULL), 0);
        assert_string_equal(l.id, "acme-0001");
        assert_string_equal(l.product, "com.example.app");
        assert_string_equal(l.licensee, "ACME Corp");
        assert_int_equal(l.type, LICENSE_SUBSCRIPTION);
        assert_int_equal(l.issued, T0);
        assert_int_equal(l.not_after, T0 + 365 * SEC_PER_DAY);
        assert_int_equal(l.n_features, 3);
        assert_int_equal(license_find_feature(&l, "seats")->limit, 2);
        assert_int_equal(license_find_feature(&l, "export")->expires, T0 + 30 * SEC_PER_DAY);
        assert_null(license_find_feature(&l, "nope"));
        assert_string_equal(l.properties[0].value, "Enterprise");
        assert_string_equal(l.machine_id, TEST_MACHINE_ID);
        assert_string_equal(l.device_key, device_pub);
        assert_int_equal(l.validation_interval, SEC_PER_DAY);
        assert_int_equal(l.grace_period, 14 * SEC_PER_DAY);

        /* Formatting what was parsed gives the same bytes: the body is canonical. */
        _cleanup_(license_done) License orig = LICENSE_INIT;
        _cleanup_free_ char *b1 = NULL, *b2 = NULL;
        size_t n1, n2;
        test_license_fill(&orig, device_pub);
        assert_int_equal(license_format_body(&orig, &b1, &n1), 0);
        assert_int_equal(license_format_body(&l, &b2, &n2), 0);
        assert_int_equal(n1, n2);
        assert_memory_equal(b1, b2, n1);
}

/* A compacted license formats to the same bytes; the shared strings are
 * the caller's, everything else is in its one allocation. */
static void test_compact(void **state) {
        _cleanup_(license_done) License l = LICENSE_INIT, orig = LICENSE_INIT, none = LICENSE_INIT;
        _cleanup_free_ char *b1 = NULL, *b2 = NULL;
        const char *machine = TEST_MACHINE_ID;
        size_t n1, n2;

        test_license_fill(&orig, device_pub);
        test_license_fill(&l, device_pub);
        assert_int_equal(license_compact(&l, (const char *const[]) {machine, device_pub, NULL}), 0);
        assert_non_null(l.arena);
        assert_ptr_equal(l.machine_id, machine);
        assert_ptr_equal(l.device_key, device_pub);
        assert_true((char *) l.id >= (char *) l.arena);
        assert_int_equal(license_compact(&l, NULL), 0); /* twice: nothing to do */
        assert_int_equal(license_format_body(&orig, &b1, &n1), 0);
        assert_int_equal(license_format_body(&l, &b2, &n2), 0);
        assert_int_equal(n1, n2);
        assert_memory_equal(b1, b2, n1);
        assert_int_equal(license_find_feature(&l, "seats")->limit, 2);
        assert_string_equal(l.properties[0].value, "Enterprise");

        /* Nothing but the required fields, nothing shared. */
        none.id = strdup("x");
        assert_int_equal(license_compact(&none, NULL), 0);
        assert_string_equal(none.id, "x");
        assert_null(none.features);
        assert_null(none.product);
}

/* Any change to the signed bytes must be caught: flip every bit of the body
 * and re-armor it with the original signature. */
static void test_every_body_bit_flip_rejected(void **state) {
        _cleanup_free_ char *text = sign_test_license();
        _cleanup_(armor_done) Armor a = {};
        size_t flips = 0;

        assert_int_equal(armor_decode(text, strlen(text), "LICENSE", &a, NULL), 0);
        for (size_t i = 0; i < a.body_len; i++)
                for (int bit = 0; bit < 8; bit++) {
                        _cleanup_free_ char *tampered = NULL;
                        _cleanup_(license_done) License l = LICENSE_INIT;
                        CoreError err = {};

                        a.body[i] ^= (uint8_t) (1u << bit);
                        assert_int_equal(armor_encode("LICENSE", a.key_id, a.signature, a.body, a.body_len,
                                                      &tampered),
                                         0);
                        a.body[i] ^= (uint8_t) (1u << bit);
                        assert_int_equal(license_verify_with_key(tampered, strlen(tampered), vendor_key, &l, &err),
                                         -EKEYREJECTED);
                        assert_non_null(strstr(err.message, "signature does not match"));
                        flips++;
                }
        assert_int_equal(flips, a.body_len * 8);
}

/* Flip every bit of the armored text: either it is rejected, or (whitespace
 * and the ignored low bits of base64 padding) it yields the very same body. */
static void test_every_armor_bit_flip_harmless(void **state) {
        _cleanup_free_ char *text = sign_test_license();
        _cleanup_(license_done) License orig = LICENSE_INIT;
        _cleanup_free_ char *orig_body = NULL;
        size_t n = strlen(text), orig_len, rejected = 0;

        assert_int_equal(license_verify_with_key(text, n, vendor_key, &orig, NULL), 0);
        assert_int_equal(license_format_body(&orig, &orig_body, &orig_len), 0);

        for (size_t i = 0; i < n; i++)
                for (int bit = 0; bit < 8; bit++) {
                        _cleanup_(license_done) License l = LICENSE_INIT;
                        _cleanup_free_ char *body = NULL;
                        size_t len;

                        text[i] ^= (char) (1u << bit);
                        if (license_verify_with_key(text, n, vendor_key, &l, NULL) < 0)
                                rejected++;
                        else {
                                assert_int_equal(license_format_body(&l, &body, &len), 0);
                                assert_int_equal(len, orig_len);
                                assert_memory_equal(body, orig_body, len);
                        }
                        text[i] ^= (char) (1u << bit);
                }
        /* Nearly all flips are outright rejections. */
        assert_true(rejected > n * 8 * 9 / 10);
}

static void expect_body_error(const char *body, const char *needle) {
        _cleanup_(license_done) License l = LICENSE_INIT;
        CoreError err = {};

        if (license_parse_body((const uint8_t *) body, strlen(body), &l, &err) >= 0)
                fail_msg("accepted: %s", body);
        if (!strstr(err.message, needle))
                fail_msg("expected '%s' in '%s'", needle, err.message);
}

#define HEAD "licensed-license: 1\nid: x1\nrevision: 1\nproduct: com.example.app\nlicensee: A\n"

static void test_body_errors(void **state) {
        static const struct {
                const char *body, *needle;
        } table[] = {
                {"", "empty"},
                {HEAD "type: perpetual\nissued: 2026-01-01", "does not end with a newline"},
                {"licensed-license: 2\n", "version 2 is not supported"},
                {"id: x\nlicensed-license: 1\n", "must come first"},
                {HEAD "type: perpetual\n", "'issued' is missing"},
                {HEAD "issued: 2026-01-01\n", "'type' is missing"},
                {HEAD "type: perpetual\nissued: 2026-01-01\nid: again\n", "'id' appears twice"},
                {HEAD "type: forever\nissued: 2026-01-01\n", "unknown license type"},
                {HEAD "type: trial\nissued: 2026-01-01\n", "needs not-after"},
                {HEAD "type: trial\nissued: 2026-01-01\nnot-after: 2025-01-01\n", "not later"},
                {HEAD "type: perpetual\nissued: yesterday\n", "not a UTC time"},
                {HEAD "type: perpetual\nissued: 2026-01-01\nfrobnicate: yes\n", "unknown field 'frobnicate'"},
                {HEAD "type: perpetual\nissued: 2026-01-01\nfeature: Bad Name\n", "bad feature name"},
                {HEAD "type: perpetual\nissued: 2026-01-01\nfeature: a\nfeature: a\n", "listed twice"},
                {HEAD "type: perpetual\nissued: 2026-01-01\nfeature: a limit=0\n", "bad feature limit"},
                {HEAD "type: perpetual\nissued: 2026-01-01\nfeature: a color=red\n", "unknown feature attribute"},
                {HEAD "type: perpetual\nissued: 2026-01-01\nproperty: novalue\n", "name=value"},
                {HEAD "type: perpetual\nissued: 2026-01-01\nmachine-id: 1234\n", "32 hex"},
                {HEAD "type: perpetual\nissued: 2026-01-01\nmachine-id: 0123456789abcdef0123456789abcdef\n",
                 "come together"},
                {HEAD "type: perpetual\nissued: 2026-01-01\ngrace-period: long\n", "not a duration"},
                {HEAD "type: perpetual\nissued: 2026-01-01\nserver-url: ftp://x\n", "http(s)"},
                {HEAD "type: perpetual\nissued: 2026-01-01\nlicensee\n", "not 'name: value'"},
                {HEAD "type: perpetual\nissued: 2026-01-01\nnote: \x01\n", "not printable"},
                {HEAD "type: perpetual\nissued: 2026-01-01\nnote: \xc3\x28\n", "not printable"},
                {"licensed-license: 1\nid: ../etc/passwd\n", "bad license id"},
                {"licensed-license: 1\nid: x\nproduct: Not/Valid\n", "bad product id"},
        };
        for (size_t i = 0; i < ELEMENTSOF(table); i++)
                expect_body_error(table[i].body, table[i].needle);
}

/* One accepted spelling per license. The shared validators of core/fields.c
 * judge the device key as requests do (its base64 exactly as the encoder
 * writes it), revisions and limits with one u32 parser that takes no leading
 * zero, and features are taken only as the writer lays them out. */
static void test_one_spelling(void **state) {
        _cleanup_free_ char *bad_key = strdup(device_pub), *key_line = NULL;
        size_t n = strlen(bad_key);

        /* The same 32 key bytes with a set unused bit in the last symbol. */
        assert_int_equal(bad_key[n - 1], '=');
        bad_key[n - 2] = bad_key[n - 2] == 'z' ? 'y' : (char) (bad_key[n - 2] ^ 1);
        assert_int_equal(asprintf(&key_line, HEAD "type: perpetual\nissued: 2026-01-01T00:00:00Z\n"
                                                  "machine-id: " TEST_MACHINE_ID "\ndevice-key: %s\n",
                                  bad_key) > 0,
                         1);
        expect_body_error(key_line, "line 9: bad device-key");

        static const struct {
                const char *body, *needle;
        } table[] = {
                {"licensed-license: 1\nid: x1\nrevision: 01\n", "line 3: bad revision"},
                {"licensed-license: 1\nid: x1\nrevision: +1\n", "line 3: bad revision"},
                {"licensed-license: 1\nid: x1\nrevision: 4294967296\n", "line 3: bad revision"},
                {HEAD "feature: seats limit=05\n", "bad feature limit"},
                {HEAD "feature: seats  limit=5\n", "separated by one space"},
                {HEAD "feature: seats limit=5 \n", "separated by one space"},
                {HEAD "feature: seats expires=2026-06-01T00:00:00Z limit=5\n", "limit= before expires="},
                {HEAD "feature: seats limit=5 limit=5\n", "limit= before expires="},
        };
        for (size_t i = 0; i < ELEMENTSOF(table); i++)
                expect_body_error(table[i].body, table[i].needle);
}

/* The committed vectors are what the canonical writer produced: parsing
 * each and formatting it again gives its signed body byte for byte. */
static void test_vectors_are_canonical(void **state) {
        static const char *const files[] = {"perpetual.lic", "subscription.lic", "trial.lic", "bound.lic"};
        const char *dir = getenv("TEST_VECTORS_DIR");

        assert_non_null(dir);
        for (size_t i = 0; i < ELEMENTSOF(files); i++) {
                _cleanup_free_ char *path = NULL, *text = NULL, *body = NULL;
                _cleanup_(armor_done) Armor a = {};
                _cleanup_(license_done) License l = LICENSE_INIT;
                size_t len, body_len;

                assert_int_equal(asprintf(&path, "%s/%s", dir, files[i]) > 0, 1);
                assert_int_equal(read_file(path, ARMOR_MAX_SIZE, &text, &len), 0);
                assert_int_equal(armor_decode(text, len, "LICENSE", &a, NULL), 0);
                assert_int_equal(license_parse_body(a.body, a.body_len, &l, NULL), 0);
                assert_int_equal(license_format_body(&l, &body, &body_len), 0);
                if (body_len != a.body_len || memcmp(body, a.body, body_len) != 0)
                        fail_msg("%s: the writer gives another body:\n%s", files[i], body);
        }
}

static void test_products(void **state) {
        _cleanup_free_ char *text = sign_test_license();
        _cleanup_pkey_ EVP_PKEY *other = NULL;
        TrustKey tk = {.key = vendor_key}, tk_other;
        Product p[2] = {
                {.id = (char *) "com.example.app", .trust_keys = &tk, .n_trust_keys = 1},
                {.id = (char *) "com.other.tool", .trust_keys = &tk_other, .n_trust_keys = 1},
        };
        ProductSet set = {.products = p, .n_products = 2};
        const Product *found = NULL;
        CoreError err = {};

        assert_int_equal(ed25519_generate(&other), 0);
        assert_int_equal(key_id_from_key(vendor_key, tk.id), 0);
        tk_other.key = other;
        assert_int_equal(key_id_from_key(other, tk_other.id), 0);

        {
                _cleanup_(license_done) License l = LICENSE_INIT;
                assert_int_equal(license_verify_with_products(text, strlen(text), &set, &l, &found, NULL), 0);
                assert_ptr_equal(found, &p[0]);
        }
        /* The product that names it does not trust the key that signed it. */
        {
                _cleanup_(license_done) License l = LICENSE_INIT;
                p[0].trust_keys = &tk_other;
                p[1].trust_keys = &tk;
                assert_int_equal(license_verify_with_products(text, strlen(text), &set, &l, &found, &err), -EPERM);
                assert_non_null(strstr(err.message, "does not trust"));
        }
        /* No product trusts it at all. */
        {
                _cleanup_(license_done) License l = LICENSE_INIT;
                p[1].trust_keys = &tk_other;
                assert_int_equal(license_verify_with_products(text, strlen(text), &set, &l, &found, &err),
                                 -ENOKEY);
                assert_non_null(strstr(err.message, "no installed product trusts"));
        }
}

/* Committed vectors: tests/vectors/ holds a key pair and licenses signed
 * with it; whoever changes the format must keep them verifying. */
static void test_vectors(void **state) {
        const char *dir = getenv("TEST_VECTORS_DIR");
        _cleanup_free_ char *pub = NULL, *path = NULL, *text = NULL, *expect = NULL;
        _cleanup_pkey_ EVP_PKEY *key = NULL;
        size_t len;

        assert_non_null(dir);
        assert_int_equal(asprintf(&path, "%s/vendor.pub", dir) > 0, 1);
        assert_int_equal(read_file(path, 4096, &pub, NULL), 0);
        assert_int_equal(ed25519_public_from_base64(strstrip(pub), &key, NULL), 0);

        static const struct {
                const char *file;
                int result;
        } table[] = {
                {"perpetual.lic", 0}, {"subscription.lic", 0}, {"trial.lic", 0},
                {"bound.lic", 0},     {"tampered.lic", -EKEYREJECTED}, {"truncated.lic", -EBADMSG},
        };
        for (size_t i = 0; i < ELEMENTSOF(table); i++) {
                _cleanup_(license_done) License l = LICENSE_INIT;
                free(path);
                free(text);
                text = NULL;
                assert_int_equal(asprintf(&path, "%s/%s", dir, table[i].file) > 0, 1);
                assert_int_equal(read_file(path, ARMOR_MAX_SIZE, &text, &len), 0);
                if (license_verify_with_key(text, len, key, &l, NULL) != table[i].result)
                        fail_msg("%s: unexpected result", table[i].file);
        }
}

/* tests/vectors/verdicts.txt: the vectors' expected verdicts (the file
 * says how to read it). */
static bool has_prefix(const char *s, const char *prefix) {
        return strncmp(s, prefix, strlen(prefix)) == 0;
}

static int64_t vector_time(const char *s) {
        int64_t t;

        if (streq(s, "-"))
                return TIME_UNSET;
        assert_int_equal(time_parse_rfc3339(s, &t, NULL), 0);
        return t;
}

static void test_vector_verdicts(void **state) {
        const char *dir = getenv("TEST_VECTORS_DIR");
        _cleanup_free_ char *pub = NULL, *device = NULL, *path = NULL, *table = NULL;
        _cleanup_pkey_ EVP_PKEY *key = NULL;
        unsigned n_cases = 0;
        char *line, *save = NULL;

        assert_non_null(dir);
        assert_int_equal(asprintf(&path, "%s/vendor.pub", dir) > 0, 1);
        assert_int_equal(read_file(path, 4096, &pub, NULL), 0);
        assert_int_equal(ed25519_public_from_base64(strstrip(pub), &key, NULL), 0);
        free(path);
        assert_int_equal(asprintf(&path, "%s/device.pub", dir) > 0, 1);
        assert_int_equal(read_file(path, 4096, &device, NULL), 0);
        strstrip(device);
        free(path);
        assert_int_equal(asprintf(&path, "%s/verdicts.txt", dir) > 0, 1);
        assert_int_equal(read_file(path, 65536, &table, NULL), 0);

        for (line = strtok_r(table, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                _cleanup_(license_done) License l = LICENSE_INIT;
                _cleanup_free_ char *lic_path = NULL, *text = NULL;
                char file[64], feature[64], now_s[32], release_s[32], reason[32], rest[256] = "";
                size_t len;
                Verdict v;

                if (line[0] == '#' || !*strstrip(line))
                        continue;
                assert_true(sscanf(line, "%63s %63s %31s %31s %31s %255[^\n]", file, feature, now_s, release_s,
                                   reason, rest) >= 5);
                assert_int_equal(asprintf(&lic_path, "%s/%s", dir, file) > 0, 1);
                assert_int_equal(read_file(lic_path, ARMOR_MAX_SIZE, &text, &len), 0);
                assert_int_equal(license_verify_with_key(text, len, key, &l, NULL), 0);

                LocalState st = {
                        .machine_id = "0123456789abcdef0123456789abcdef",
                        .device_key = device,
                        .installed = l.issued,
                        .last_validation = TIME_UNSET,
                        .time_high_water = TIME_UNSET,
                        .clock_tolerance = 300,
                        .validation_interval = l.validation_interval > 0 ? l.validation_interval : 0,
                        .grace_period = l.grace_period > 0 ? l.grace_period : 0,
                };
                for (char *tok_save = NULL, *tok = strtok_r(rest, " ", &tok_save); tok;
                     tok = strtok_r(NULL, " ", &tok_save)) {
                        if (streq(tok, "machine=other"))
                                st.machine_id = "ffffffffffffffffffffffffffffffff";
                        else if (streq(tok, "revoked"))
                                st.revoked = true;
                        else if (has_prefix(tok, "validated="))
                                st.last_validation = vector_time(tok + strlen("validated="));
                        else if (has_prefix(tok, "high-water="))
                                st.time_high_water = vector_time(tok + strlen("high-water="));
                        else if (has_prefix(tok, "seats=")) {
                                st.seats_in_use = (uint32_t) atoi(tok + strlen("seats="));
                                st.want_seat = true;
                        } else
                                fail_msg("verdicts.txt: unknown state '%s' in: %s", tok, line);
                }
                evaluate(&l, &st, streq(feature, "-") ? NULL : feature, vector_time(now_s), vector_time(release_s),
                         &v);
                if (!streq(reason_to_string(v.reason), reason))
                        fail_msg("verdicts.txt: %s gives %s: %s", reason, reason_to_string(v.reason), line);
                n_cases++;
        }
        assert_true(n_cases >= 20);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_round_trip),
                cmocka_unit_test(test_compact),
                cmocka_unit_test(test_every_body_bit_flip_rejected),
                cmocka_unit_test(test_every_armor_bit_flip_harmless),
                cmocka_unit_test(test_body_errors),
                cmocka_unit_test(test_one_spelling),
                cmocka_unit_test(test_vectors_are_canonical),
                cmocka_unit_test(test_products),
                cmocka_unit_test(test_vectors),
                cmocka_unit_test(test_vector_verdicts),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}
