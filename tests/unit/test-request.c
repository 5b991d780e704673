/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "test-util.h"
#include "license-key.h"
#include "request.h"
#include "strutil.h"

#define TEST_NONCE "00112233445566778899aabbccddeeff"

static EVP_PKEY *vendor_key, *device_key, *other_key;
static char *device_pub;
static char test_key[LICENSE_KEY_STRING_SIZE];

static int setup(void **state) {
        if (ed25519_generate(&vendor_key) < 0 || ed25519_generate(&device_key) < 0 ||
            ed25519_generate(&other_key) < 0)
                return -1;
        if (ed25519_public_base64(device_key, &device_pub) < 0)
                return -1;
        return license_key_generate(test_key);
}

static int teardown(void **state) {
        EVP_PKEY_free(vendor_key);
        EVP_PKEY_free(device_key);
        EVP_PKEY_free(other_key);
        free(device_pub);
        return 0;
}

static void fill_request(MachineRequest *r, MachineRequestType type) {
        *r = (MachineRequest) MACHINE_REQUEST_INIT;
        r->type = type;
        r->product = strdup("com.example.app");
        if (type == MACHINE_REQUEST_ACTIVATION)
                r->key = strdup(test_key);
        else if (type != MACHINE_REQUEST_TRIAL) { /* a trial names only product and machine */
                r->license_id = strdup("acme-0001");
                r->revision = 3;
        }
        r->machine_id = strdup(TEST_MACHINE_ID);
        r->device_key = strdup(device_pub);
        r->nonce = strdup(TEST_NONCE);
        r->created = T0;
        r->hostname = strdup("build-01.example.com");
}

static char *sign_request(MachineRequestType type) {
        _cleanup_(machine_request_done) MachineRequest r = MACHINE_REQUEST_INIT;
        char *text = NULL;

        fill_request(&r, type);
        assert_int_equal(machine_request_sign(&r, device_key, &text), 0);
        return text;
}

static void fill_receipt(ValidationReceipt *r, ReceiptStatus status) {
        *r = (ValidationReceipt) VALIDATION_RECEIPT_INIT;
        r->license_id = strdup("acme-0001");
        r->product = strdup("com.example.app");
        r->machine_id = strdup(TEST_MACHINE_ID);
        r->nonce = strdup(TEST_NONCE);
        r->validated = T0 + SEC_PER_DAY;
        r->status = status;
}

static char *sign_receipt(EVP_PKEY *key, ReceiptStatus status) {
        _cleanup_(validation_receipt_done) ValidationReceipt r = VALIDATION_RECEIPT_INIT;
        char *text = NULL;

        fill_receipt(&r, status);
        assert_int_equal(validation_receipt_sign(&r, key, &text), 0);
        return text;
}

static void test_request_round_trips(void **state) {
        for (int t = 0; t < _MACHINE_REQUEST_TYPE_MAX; t++) {
                _cleanup_free_ char *text = sign_request((MachineRequestType) t), *begin = NULL;
                _cleanup_(machine_request_done) MachineRequest r = MACHINE_REQUEST_INIT, any = MACHINE_REQUEST_INIT;

                assert_int_equal(asprintf(&begin, "-----BEGIN LICENSED %s-----\n",
                                          machine_request_kind((MachineRequestType) t)) > 0, 1);
                assert_true(strncmp(text, begin, strlen(begin)) == 0);
                assert_int_equal(machine_request_verify(text, strlen(text), (MachineRequestType) t, &r, NULL), 0);
                assert_int_equal(r.type, t);
                assert_string_equal(r.product, "com.example.app");
                assert_string_equal(r.machine_id, TEST_MACHINE_ID);
                assert_string_equal(r.device_key, device_pub);
                assert_string_equal(r.nonce, TEST_NONCE);
                assert_int_equal(r.created, T0);
                assert_string_equal(r.hostname, "build-01.example.com");
                if (t == MACHINE_REQUEST_ACTIVATION) {
                        assert_string_equal(r.key, test_key);
                        assert_null(r.license_id);
                } else if (t == MACHINE_REQUEST_TRIAL) {
                        assert_null(r.key);
                        assert_null(r.license_id);
                } else {
                        assert_null(r.key);
                        assert_string_equal(r.license_id, "acme-0001");
                        assert_int_equal(r.revision, 3);
                }
                /* Any of the three is accepted when no type is expected. */
                assert_int_equal(
                        machine_request_verify(text, strlen(text), _MACHINE_REQUEST_TYPE_INVALID, &any, NULL), 0);
                assert_int_equal(any.type, t);
        }
}

static void test_request_without_hostname(void **state) {
        _cleanup_(machine_request_done) MachineRequest r = MACHINE_REQUEST_INIT, back = MACHINE_REQUEST_INIT;
        _cleanup_free_ char *text = NULL;

        fill_request(&r, MACHINE_REQUEST_VALIDATION);
        free(r.hostname);
        r.hostname = NULL;
        assert_int_equal(machine_request_sign(&r, device_key, &text), 0);
        assert_int_equal(machine_request_verify(text, strlen(text), MACHINE_REQUEST_VALIDATION, &back, NULL), 0);
        assert_null(back.hostname);
}

static void test_receipt_round_trip(void **state) {
        for (int s = 0; s < _RECEIPT_STATUS_MAX; s++) {
                _cleanup_free_ char *text = sign_receipt(vendor_key, (ReceiptStatus) s);
                _cleanup_(validation_receipt_done) ValidationReceipt r = VALIDATION_RECEIPT_INIT;

                assert_true(strncmp(text, "-----BEGIN LICENSED VALIDATION RECEIPT-----\n", 44) == 0);
                assert_int_equal(validation_receipt_verify_with_key(text, strlen(text), vendor_key, &r, NULL), 0);
                assert_string_equal(r.license_id, "acme-0001");
                assert_string_equal(r.product, "com.example.app");
                assert_string_equal(r.machine_id, TEST_MACHINE_ID);
                assert_string_equal(r.nonce, TEST_NONCE);
                assert_int_equal(r.validated, T0 + SEC_PER_DAY);
                assert_int_equal(r.status, s);
        }
        assert_string_equal(receipt_status_to_string(RECEIPT_REVOKED), "revoked");
        assert_int_equal(receipt_status_from_string("valid"), RECEIPT_VALID);
        assert_int_equal(receipt_status_from_string("maybe"), _RECEIPT_STATUS_INVALID);
}

/* Flips every bit of a signed body, re-armors it with the original headers,
 * and expects verify() to reject each one. */
typedef int (*VerifyFunc)(const char *text);

static void expect_every_body_bit_flip_rejected(const char *text, VerifyFunc verify) {
        _cleanup_(armor_done) Armor a = {};
        size_t flips = 0;

        assert_int_equal(armor_decode(text, strlen(text), NULL, &a, NULL), 0);
        assert_int_equal(verify(text), 0);
        for (size_t i = 0; i < a.body_len; i++)
                for (int bit = 0; bit < 8; bit++) {
                        _cleanup_free_ char *tampered = NULL;

                        a.body[i] ^= (uint8_t) (1u << bit);
                        assert_int_equal(armor_encode(a.kind, a.key_id, a.signature, a.body, a.body_len, &tampered),
                                         0);
                        a.body[i] ^= (uint8_t) (1u << bit);
                        if (verify(tampered) >= 0)
                                fail_msg("flip of bit %d of byte %zu accepted", bit, i);
                        flips++;
                }
        assert_int_equal(flips, a.body_len * 8);
}

static int verify_any_request(const char *text) {
        _cleanup_(machine_request_done) MachineRequest r = MACHINE_REQUEST_INIT;
        CoreError err = {};
        int k = machine_request_verify(text, strlen(text), _MACHINE_REQUEST_TYPE_INVALID, &r, &err);

        /* Damaged fields are malformed, anything else fails the signature. */
        assert_true(k == 0 || k == -EBADMSG || k == -EPROTONOSUPPORT || k == -ENOKEY || k == -EKEYREJECTED);
        assert_true(k == 0 || err.message[0]);
        return k;
}

static int verify_receipt(const char *text) {
        _cleanup_(validation_receipt_done) ValidationReceipt r = VALIDATION_RECEIPT_INIT;
        CoreError err = {};
        int k = validation_receipt_verify_with_key(text, strlen(text), vendor_key, &r, &err);

        /* Parsed only after the signature verifies: every flip is a bad signature. */
        assert_true(k == 0 || strstr(err.message, "signature does not match"));
        return k;
}

static void test_every_body_bit_flip_rejected(void **state) {
        for (int t = 0; t < _MACHINE_REQUEST_TYPE_MAX; t++) {
                _cleanup_free_ char *text = sign_request((MachineRequestType) t);
                expect_every_body_bit_flip_rejected(text, verify_any_request);
        }
        _cleanup_free_ char *receipt = sign_receipt(vendor_key, RECEIPT_VALID);
        expect_every_body_bit_flip_rejected(receipt, verify_receipt);
}

static void expect_request_error_code(const char *text, MachineRequestType expected, int code,
                                      const char *needle) {
        _cleanup_(machine_request_done) MachineRequest r = MACHINE_REQUEST_INIT;
        CoreError err = {};
        int k = machine_request_verify(text, strlen(text), expected, &r, &err);

        if (k != code)
                fail_msg("got %d, not %d, for:\n%s", k, code, text);
        if (!strstr(err.message, needle))
                fail_msg("expected '%s' in '%s'", needle, err.message);
}

static void expect_request_error(const char *text, MachineRequestType expected, const char *needle) {
        expect_request_error_code(text, expected, -EBADMSG, needle);
}

/* Body text signed by key and armored as kind. */
static char *sign_body(EVP_PKEY *key, const char *kind, const char *body) {
        char *text = NULL;

        assert_int_equal(armor_sign(key, kind, (const uint8_t *) body, strlen(body), &text), 0);
        return text;
}

static void test_key_id_must_match_device_key(void **state) {
        _cleanup_free_ char *text = sign_request(MACHINE_REQUEST_ACTIVATION), *relabeled = NULL, *forged = NULL;
        _cleanup_(armor_done) Armor a = {};
        _cleanup_(machine_request_done) MachineRequest r = MACHINE_REQUEST_INIT;
        _cleanup_free_ char *body = NULL;
        char other_id[KEY_ID_STRING_SIZE];

        /* The right signature under another key's id. */
        assert_int_equal(armor_decode(text, strlen(text), NULL, &a, NULL), 0);
        assert_int_equal(key_id_from_key(other_key, other_id), 0);
        assert_int_equal(armor_encode(a.kind, other_id, a.signature, a.body, a.body_len, &relabeled), 0);
        expect_request_error_code(relabeled, MACHINE_REQUEST_ACTIVATION, -ENOKEY, "does not match the device key");

        /* Signed (and labeled) by another key than the one it carries. */
        body = strndup((const char *) a.body, a.body_len);
        assert_non_null(body);
        forged = sign_body(other_key, "ACTIVATION REQUEST", body);
        expect_request_error_code(forged, MACHINE_REQUEST_ACTIVATION, -ENOKEY, "does not match the device key");

        /* Labeled with the device key's id but signed by another key. */
        {
                _cleanup_(armor_done) Armor f = {};
                _cleanup_free_ char *mislabeled = NULL;
                assert_int_equal(armor_decode(forged, strlen(forged), NULL, &f, NULL), 0);
                assert_int_equal(armor_encode(f.kind, a.key_id, f.signature, f.body, f.body_len, &mislabeled), 0);
                expect_request_error_code(mislabeled, MACHINE_REQUEST_ACTIVATION, -EKEYREJECTED,
                                          "signature does not match: the activation request was altered");
        }

        /* Sanity: the original still verifies. */
        assert_int_equal(machine_request_verify(text, strlen(text), MACHINE_REQUEST_ACTIVATION, &r, NULL), 0);
}

static void test_kind_and_type_must_agree(void **state) {
        _cleanup_free_ char *activation = sign_request(MACHINE_REQUEST_ACTIVATION);
        _cleanup_free_ char *proof = sign_request(MACHINE_REQUEST_DEACTIVATION);
        _cleanup_free_ char *receipt = sign_receipt(vendor_key, RECEIPT_VALID);
        _cleanup_free_ char *relabeled = NULL, *license = NULL;
        _cleanup_(armor_done) Armor a = {};
        _cleanup_(license_done) License l = LICENSE_INIT;
        _cleanup_(validation_receipt_done) ValidationReceipt rc = VALIDATION_RECEIPT_INIT;
        _cleanup_free_ char *body = NULL;

        expect_request_error(activation, MACHINE_REQUEST_VALIDATION,
                             "this is an ACTIVATION REQUEST, not a VALIDATION REQUEST");
        expect_request_error(proof, MACHINE_REQUEST_ACTIVATION, "not an ACTIVATION REQUEST");
        expect_request_error(receipt, _MACHINE_REQUEST_TYPE_INVALID,
                             "not an activation request, validation request or deactivation proof");

        test_license_fill(&l, device_pub);
        assert_int_equal(license_sign(&l, vendor_key, &license), 0);
        expect_request_error(license, _MACHINE_REQUEST_TYPE_INVALID, "this is a LICENSE");

        /* A deactivation body, correctly signed, but armored as a validation request. */
        assert_int_equal(armor_decode(proof, strlen(proof), NULL, &a, NULL), 0);
        body = strndup((const char *) a.body, a.body_len);
        assert_non_null(body);
        relabeled = sign_body(device_key, "VALIDATION REQUEST", body);
        expect_request_error(relabeled, _MACHINE_REQUEST_TYPE_INVALID,
                             "the armor says validation request but the body says type deactivation");
        expect_request_error(relabeled, MACHINE_REQUEST_VALIDATION, "body says type deactivation");

        /* A request is not a receipt. */
        assert_int_equal(validation_receipt_verify_with_key(activation, strlen(activation), device_key, &rc, NULL),
                         -EBADMSG);
}

/* Builds a request body of a type from the canonical field list, leaving
 * out the field named skip and appending extra. */
static char *request_body(MachineRequestType t, const char *skip, const char *extra) {
        const char *lines[][2] = {
                {"licensed-request", "1"},
                {"type", machine_request_type_to_string(t)},
                {"product", "com.example.app"},
                {"key", t == MACHINE_REQUEST_ACTIVATION ? test_key : NULL},
                {"license-id", t != MACHINE_REQUEST_ACTIVATION && t != MACHINE_REQUEST_TRIAL ? "acme-0001" : NULL},
                {"revision", t != MACHINE_REQUEST_ACTIVATION && t != MACHINE_REQUEST_TRIAL ? "2" : NULL},
                {"machine-id", TEST_MACHINE_ID},
                {"device-key", device_pub},
                {"nonce", TEST_NONCE},
                {"created", "2026-01-01T00:00:00Z"},
        };
        char *s = strdup(""), *n;

        for (size_t i = 0; i < ELEMENTSOF(lines); i++) {
                if (!lines[i][1] || streq_ptr(skip, lines[i][0]))
                        continue;
                assert_int_equal(asprintf(&n, "%s%s: %s\n", s, lines[i][0], lines[i][1]) > 0, 1);
                free(s);
                s = n;
        }
        assert_int_equal(asprintf(&n, "%s%s", s, extra ?: "") > 0, 1);
        free(s);
        return n;
}

static void expect_body_error(MachineRequestType t, const char *skip, const char *extra, const char *needle) {
        _cleanup_free_ char *body = request_body(t, skip, extra);
        _cleanup_free_ char *text = sign_body(device_key, machine_request_kind(t), body);

        expect_request_error(text, t, needle);
}

static void test_required_fields(void **state) {
        static const char *const common[] = {"licensed-request", "type", "product", "machine-id", "device-key",
                                             "nonce", "created"};

        for (int t = 0; t < _MACHINE_REQUEST_TYPE_MAX; t++) {
                _cleanup_free_ char *body = request_body((MachineRequestType) t, NULL, NULL);
                _cleanup_free_ char *text = sign_body(device_key, machine_request_kind((MachineRequestType) t), body);
                _cleanup_(machine_request_done) MachineRequest r = MACHINE_REQUEST_INIT;

                /* The full body is good... */
                assert_int_equal(machine_request_verify(text, strlen(text), (MachineRequestType) t, &r, NULL), 0);
                /* ...and each required field is needed. */
                for (size_t i = 0; i < ELEMENTSOF(common); i++) {
                        _cleanup_free_ char *needle = NULL;
                        assert_int_equal(asprintf(&needle, "'%s' is missing", common[i]) > 0, 1);
                        expect_body_error((MachineRequestType) t, common[i], NULL, needle);
                }
        }
        expect_body_error(MACHINE_REQUEST_ACTIVATION, "key", NULL,
                          "required field 'key' is missing from the activation request");
        expect_body_error(MACHINE_REQUEST_VALIDATION, "license-id", NULL,
                          "required field 'license-id' is missing from the validation request");
        expect_body_error(MACHINE_REQUEST_VALIDATION, "revision", NULL, "'revision' is missing");
        expect_body_error(MACHINE_REQUEST_DEACTIVATION, "license-id", NULL, "'license-id' is missing");
        expect_body_error(MACHINE_REQUEST_DEACTIVATION, "revision", NULL,
                          "required field 'revision' is missing from the deactivation proof");
}

static void test_forbidden_fields(void **state) {
        _cleanup_free_ char *key_line = NULL;

        assert_int_equal(asprintf(&key_line, "key: %s\n", test_key) > 0, 1);
        expect_body_error(MACHINE_REQUEST_ACTIVATION, NULL, "license-id: acme-0001\n",
                          "line 9: 'license-id' is not a field of the activation request");
        expect_body_error(MACHINE_REQUEST_ACTIVATION, NULL, "revision: 1\n",
                          "'revision' is not a field of the activation request");
        expect_body_error(MACHINE_REQUEST_VALIDATION, NULL, key_line,
                          "line 10: 'key' is not a field of the validation request");
        expect_body_error(MACHINE_REQUEST_DEACTIVATION, NULL, key_line,
                          "'key' is not a field of the deactivation proof");
}

static void test_body_errors(void **state) {
        static const struct {
                const char *extra, *needle;
        } table[] = {
                {"frobnicate: yes\n", "line 9: unknown field 'frobnicate'"},
                {"nonce: 00112233445566778899aabbccddeeff\n", "line 9: 'nonce' appears twice"},
                {"hostname: \x01\n", "not printable"},
                {"licensed-request: 1\n", "line 9: 'licensed-request' appears twice"},
        };
        _cleanup_free_ char *long_host = NULL;
        char bad[LICENSE_KEY_STRING_SIZE + 8];

        for (size_t i = 0; i < ELEMENTSOF(table); i++)
                expect_body_error(MACHINE_REQUEST_ACTIVATION, NULL, table[i].extra, table[i].needle);

        assert_int_equal(asprintf(&long_host, "hostname: %0256d\n", 0) > 0, 1);
        expect_body_error(MACHINE_REQUEST_VALIDATION, NULL, long_host, "hostname is longer than 255 bytes");

        /* Field values, each swapped in for the good one. */
        expect_body_error(MACHINE_REQUEST_VALIDATION, "revision", "revision: -1\n", "bad revision");
        /* One u32 parser for revisions everywhere: no leading zero, as in licenses. */
        expect_body_error(MACHINE_REQUEST_VALIDATION, "revision", "revision: 02\n", "line 9: bad revision");
        expect_body_error(MACHINE_REQUEST_DEACTIVATION, "revision", "revision: 4294967296\n", "bad revision");
        expect_body_error(MACHINE_REQUEST_VALIDATION, "license-id", "license-id: ../x\n", "bad license id");
        expect_body_error(MACHINE_REQUEST_VALIDATION, "product", "product: Not/Valid\n", "bad product id");
        expect_body_error(MACHINE_REQUEST_VALIDATION, "nonce", "nonce: 0011\n", "nonce must be 32 lower-case hex");
        expect_body_error(MACHINE_REQUEST_VALIDATION, "machine-id", "machine-id: 0123456789ABCDEF0123456789ABCDEF\n",
                          "machine-id must be 32 lower-case hex");
        expect_body_error(MACHINE_REQUEST_VALIDATION, "created", "created: yesterday\n", "created is not a UTC time");
        expect_body_error(MACHINE_REQUEST_VALIDATION, "device-key", "device-key: AAAA\n", "bad device-key");

        /* The key must be valid, and in canonical form. */
        snprintf(bad, sizeof(bad), "key: %s\n", test_key);
        for (char *c = bad + 5; *c; c++)
                if (*c >= 'A' && *c <= 'Z')
                        *c = (char) (*c + 32);
        if (!streq(bad + 5, test_key)) /* all digits: nothing to lower */
                expect_body_error(MACHINE_REQUEST_ACTIVATION, "key", bad, "key is not in canonical form");
        expect_body_error(MACHINE_REQUEST_ACTIVATION, "key", "key: 7QK2M-ZP0XH\n", "key: the key has 2 groups");

        expect_body_error(MACHINE_REQUEST_ACTIVATION, "licensed-request", "licensed-request: 1\n",
                          "line 8: format line must come first");

        /* Only version 1, and only the known types. */
        {
                _cleanup_free_ char *body = request_body(MACHINE_REQUEST_ACTIVATION, NULL, NULL);
                _cleanup_free_ char *text = NULL;
                body[18] = '2';
                text = sign_body(device_key, "ACTIVATION REQUEST", body);
                expect_request_error_code(text, MACHINE_REQUEST_ACTIVATION, -EPROTONOSUPPORT,
                                          "request format version 2 is not supported");
        }
        {
                _cleanup_free_ char *body = request_body(MACHINE_REQUEST_ACTIVATION, "type", NULL);
                _cleanup_free_ char *text = NULL, *typed = NULL;
                /* "type: reactivation" after the format line */
                assert_int_equal(asprintf(&typed, "licensed-request: 1\ntype: reactivation\n%s", body + 20) > 0, 1);
                text = sign_body(device_key, "ACTIVATION REQUEST", typed);
                expect_request_error(text, MACHINE_REQUEST_ACTIVATION, "line 2: unknown request type");
        }
}

static void test_sign_refuses_bad_requests(void **state) {
        _cleanup_free_ char *text = NULL;

        {
                _cleanup_(machine_request_done) MachineRequest r = MACHINE_REQUEST_INIT;
                fill_request(&r, MACHINE_REQUEST_ACTIVATION);
                /* Signed with another key than the one it names. */
                assert_int_equal(machine_request_sign(&r, other_key, &text), -EINVAL);
        }
        {
                _cleanup_(machine_request_done) MachineRequest r = MACHINE_REQUEST_INIT;
                fill_request(&r, MACHINE_REQUEST_ACTIVATION);
                r.license_id = strdup("acme-0001");
                assert_int_equal(machine_request_sign(&r, device_key, &text), -EINVAL);
        }
        {
                _cleanup_(machine_request_done) MachineRequest r = MACHINE_REQUEST_INIT;
                fill_request(&r, MACHINE_REQUEST_DEACTIVATION);
                r.key = strdup(test_key);
                assert_int_equal(machine_request_sign(&r, device_key, &text), -EINVAL);
        }
        {
                _cleanup_(machine_request_done) MachineRequest r = MACHINE_REQUEST_INIT;
                fill_request(&r, MACHINE_REQUEST_VALIDATION);
                free(r.nonce);
                r.nonce = strdup("not-hex");
                assert_int_equal(machine_request_sign(&r, device_key, &text), -EINVAL);
        }
        {
                _cleanup_(machine_request_done) MachineRequest r = MACHINE_REQUEST_INIT;
                fill_request(&r, MACHINE_REQUEST_VALIDATION);
                r.created = TIME_UNSET;
                assert_int_equal(machine_request_sign(&r, device_key, &text), -EINVAL);
        }
        {
                _cleanup_(validation_receipt_done) ValidationReceipt r = VALIDATION_RECEIPT_INIT;
                fill_receipt(&r, _RECEIPT_STATUS_INVALID);
                assert_int_equal(validation_receipt_sign(&r, vendor_key, &text), -EINVAL);
        }
        assert_null(text);
}

/* A trial may carry a hardware id (32 lower-case hex digits); no other
 * request may, neither when signed nor when parsed. */
static void test_trial_hardware_id(void **state) {
        _cleanup_(machine_request_done) MachineRequest r = MACHINE_REQUEST_INIT, back = MACHINE_REQUEST_INIT;
        _cleanup_free_ char *text = NULL;

        fill_request(&r, MACHINE_REQUEST_TRIAL);
        r.hardware_id = strdup("00112233445566778899aabbccddeeff");
        assert_int_equal(machine_request_sign(&r, device_key, &text), 0);
        assert_int_equal(machine_request_verify(text, strlen(text), MACHINE_REQUEST_TRIAL, &back, NULL), 0);
        assert_string_equal(back.hardware_id, "00112233445566778899aabbccddeeff");
        free(TAKE_PTR(text));

        for (int t = 0; t < _MACHINE_REQUEST_TYPE_MAX; t++) {
                _cleanup_(machine_request_done) MachineRequest other = MACHINE_REQUEST_INIT;
                _cleanup_free_ char *needle = NULL;

                if (t == MACHINE_REQUEST_TRIAL)
                        continue;
                fill_request(&other, (MachineRequestType) t);
                other.hardware_id = strdup("00112233445566778899aabbccddeeff");
                assert_int_equal(machine_request_sign(&other, device_key, &text), -EINVAL);
                assert_null(text);
                assert_int_equal(asprintf(&needle, "'hardware-id' is not a field of the %s",
                                          machine_request_noun((MachineRequestType) t)) > 0, 1);
                expect_body_error((MachineRequestType) t, NULL, "hardware-id: 00112233445566778899aabbccddeeff\n",
                                  needle);
        }
        expect_body_error(MACHINE_REQUEST_TRIAL, NULL, "hardware-id: 00112233445566778899AABBCCDDEEFF\n",
                          "hardware-id must be 32 lower-case hex digits");
        expect_body_error(MACHINE_REQUEST_TRIAL, NULL, "hardware-id: 0011\n",
                          "hardware-id must be 32 lower-case hex digits");
        /* Without one, a trial is as before. */
        {
                _cleanup_free_ char *body = request_body(MACHINE_REQUEST_TRIAL, NULL, NULL);
                _cleanup_free_ char *plain = sign_body(device_key, "TRIAL REQUEST", body);
                _cleanup_(machine_request_done) MachineRequest none = MACHINE_REQUEST_INIT;

                assert_int_equal(machine_request_verify(plain, strlen(plain), MACHINE_REQUEST_TRIAL, &none, NULL), 0);
                assert_null(none.hardware_id);
        }
}

static void test_receipt_keys_and_products(void **state) {
        _cleanup_free_ char *text = sign_receipt(vendor_key, RECEIPT_REVOKED);
        TrustKey tk = {.key = vendor_key}, tk_other = {.key = other_key};
        Product p[2] = {
                {.id = (char *) "com.example.app", .trust_keys = &tk, .n_trust_keys = 1},
                {.id = (char *) "com.other.tool", .trust_keys = &tk_other, .n_trust_keys = 1},
        };
        ProductSet set = {.products = p, .n_products = 2};
        CoreError err = {};

        assert_int_equal(key_id_from_key(vendor_key, tk.id), 0);
        assert_int_equal(key_id_from_key(other_key, tk_other.id), 0);

        {
                _cleanup_(validation_receipt_done) ValidationReceipt r = VALIDATION_RECEIPT_INIT;
                assert_int_equal(validation_receipt_verify_with_products(text, strlen(text), &set, &r, NULL), 0);
                assert_int_equal(r.status, RECEIPT_REVOKED);
        }
        /* With the wrong key. */
        {
                _cleanup_(validation_receipt_done) ValidationReceipt r = VALIDATION_RECEIPT_INIT;
                assert_int_equal(validation_receipt_verify_with_key(text, strlen(text), other_key, &r, &err), -ENOKEY);
                assert_non_null(strstr(err.message, "not by the expected key"));
        }
        /* The product it names does not trust the key that signed it. */
        {
                _cleanup_(validation_receipt_done) ValidationReceipt r = VALIDATION_RECEIPT_INIT;
                p[0].trust_keys = &tk_other;
                p[1].trust_keys = &tk;
                assert_int_equal(validation_receipt_verify_with_products(text, strlen(text), &set, &r, &err), -EPERM);
                assert_non_null(strstr(err.message, "which com.example.app does not trust"));
        }
        /* No product trusts it. */
        {
                _cleanup_(validation_receipt_done) ValidationReceipt r = VALIDATION_RECEIPT_INIT;
                p[1].trust_keys = &tk_other;
                assert_int_equal(validation_receipt_verify_with_products(text, strlen(text), &set, &r, &err),
                                 -ENOKEY);
                assert_non_null(strstr(err.message, "no installed product trusts"));
        }
        /* The product is not installed. */
        {
                _cleanup_(validation_receipt_done) ValidationReceipt r = VALIDATION_RECEIPT_INIT;
                p[0].trust_keys = &tk;
                set.n_products = 1;
                p[0].id = (char *) "com.example.other";
                assert_int_equal(validation_receipt_verify_with_products(text, strlen(text), &set, &r, &err),
                                 -ENOENT);
                assert_non_null(strstr(err.message, "not installed"));
        }
}

static void test_receipt_body_errors(void **state) {
        static const struct {
                const char *body, *needle;
        } table[] = {
                {"licensed-receipt: 1\nlicense-id: a\nproduct: com.example.app\nmachine-id: "
                 "0123456789abcdef0123456789abcdef\nnonce: 00112233445566778899aabbccddeeff\n"
                 "validated: 2026-01-02T00:00:00Z\n",
                 "required field 'status' is missing"},
                {"licensed-receipt: 1\nstatus: fine\n", "line 2: unknown status"},
                {"licensed-receipt: 1\nkey: x\n", "line 2: unknown field 'key'"},
                {"licensed-receipt: 2\n", "receipt format version 2 is not supported"},
        };

        for (size_t i = 0; i < ELEMENTSOF(table); i++) {
                _cleanup_free_ char *text = sign_body(vendor_key, "VALIDATION RECEIPT", table[i].body);
                _cleanup_(validation_receipt_done) ValidationReceipt r = VALIDATION_RECEIPT_INIT;
                CoreError err = {};

                assert_true(validation_receipt_verify_with_key(text, strlen(text), vendor_key, &r, &err) < 0);
                if (!strstr(err.message, table[i].needle))
                        fail_msg("expected '%s' in '%s'", table[i].needle, err.message);
                assert_non_null(strstr(err.message, "signed receipt body is invalid"));
        }
}

static void test_nonce_generate(void **state) {
        char a[LICENSE_NONCE_STRING_SIZE], b[LICENSE_NONCE_STRING_SIZE];

        assert_int_equal(nonce_generate(a), 0);
        assert_int_equal(nonce_generate(b), 0);
        assert_true(hex_is_valid(a, LICENSE_NONCE_HEX_LEN));
        assert_true(hex_is_valid(b, LICENSE_NONCE_HEX_LEN));
        assert_string_not_equal(a, b);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_request_round_trips),
                cmocka_unit_test(test_request_without_hostname),
                cmocka_unit_test(test_trial_hardware_id),
                cmocka_unit_test(test_receipt_round_trip),
                cmocka_unit_test(test_every_body_bit_flip_rejected),
                cmocka_unit_test(test_key_id_must_match_device_key),
                cmocka_unit_test(test_kind_and_type_must_agree),
                cmocka_unit_test(test_required_fields),
                cmocka_unit_test(test_forbidden_fields),
                cmocka_unit_test(test_body_errors),
                cmocka_unit_test(test_sign_refuses_bad_requests),
                cmocka_unit_test(test_receipt_keys_and_products),
                cmocka_unit_test(test_receipt_body_errors),
                cmocka_unit_test(test_nonce_generate),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}
