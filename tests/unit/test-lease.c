/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* core/lease.c: the FLOATING LEASE and SITE REQUEST documents, and the
 * chain check vendor -> floating license -> site key -> lease -> client. */
#include "test-util.h"
#include "armor.h"
#include "base64.h"
#include "lease.h"
#include "strutil.h"

#define SITE_ID "5f0c5f0c5f0c5f0c5f0c5f0c5f0c5f0c"
#define LEASE_ID "8e218e218e218e218e218e218e218e21"
#define CLIENT_ID "0123456789abcdef0123456789abcdef"
#define TEST_NONCE "00112233445566778899aabbccddeeff"

static EVP_PKEY *vendor_key, *site_key, *client_key, *other_key;
static char *site_pub, *client_pub, *other_pub;
static TrustKey trust;
static Product product = {.id = (char *) "com.example.cad", .trust_keys = &trust, .n_trust_keys = 1};
static ProductSet products = {.products = &product, .n_products = 1};

static int setup(void **state) {
        if (ed25519_generate(&vendor_key) < 0 || ed25519_generate(&site_key) < 0 ||
            ed25519_generate(&client_key) < 0 || ed25519_generate(&other_key) < 0)
                return -1;
        if (ed25519_public_base64(site_key, &site_pub) < 0 || ed25519_public_base64(client_key, &client_pub) < 0 ||
            ed25519_public_base64(other_key, &other_pub) < 0)
                return -1;
        trust.key = vendor_key;
        return key_id_from_key(vendor_key, trust.id);
}

static int teardown(void **state) {
        EVP_PKEY_free(vendor_key);
        EVP_PKEY_free(site_key);
        EVP_PKEY_free(client_key);
        EVP_PKEY_free(other_key);
        free(site_pub);
        free(client_pub);
        free(other_pub);
        return 0;
}

/* A license for com.example.cad with limit seats of "cad", bound to the
 * site, signed by signer. */
static char *signed_license(LicenseType type, const char *device_key, uint32_t limit, EVP_PKEY *signer) {
        _cleanup_(license_done) License l = LICENSE_INIT;
        char *text = NULL;

        l.id = strdup("acme-float-1");
        l.revision = 1;
        l.product = strdup("com.example.cad");
        l.licensee = strdup("ACME Corp");
        l.type = type;
        l.issued = T0;
        l.not_after = T0 + 365 * SEC_PER_DAY;
        assert_int_equal(license_add_feature(&l, "cad", TIME_UNSET, limit, NULL), 0);
        l.machine_id = strdup(SITE_ID);
        l.device_key = strdup(device_key);
        assert_int_equal(license_sign(&l, signer, &text), 0);
        return text;
}

static char *floating_license(LicenseType type, const char *device_key, uint32_t limit) {
        return signed_license(type, device_key, limit, vendor_key);
}

static void fill_lease(Lease *ls, const char *license_text) {
        char digest[LEASE_DIGEST_STRING_SIZE];

        assert_int_equal(lease_license_digest(license_text, strlen(license_text), digest), 0);
        *ls = (Lease) {
                .site = strdup(SITE_ID),
                .id = strdup(LEASE_ID),
                .product = strdup("com.example.cad"),
                .feature = strdup("cad"),
                .machine_id = strdup(CLIENT_ID),
                .device_key = strdup(client_pub),
                .user = strdup("alice"),
                .host = strdup("ws-17"),
                .granted = T0 + 100,
                .expires = T0 + 220,
                .license = strdup(digest),
        };
}

static char *sign_lease(const Lease *ls, EVP_PKEY *key) {
        char *text = NULL;
        assert_int_equal(lease_sign(ls, key, &text), 0);
        return text;
}

static int check(const char *lic, const char *lease, int64_t now, CoreError *err) {
        *err = (CoreError) {};
        return lease_check_chain(lic, strlen(lic), lease, strlen(lease), &products, CLIENT_ID, client_pub, now,
                                 NULL, NULL, err);
}

static void test_lease_round_trip(void **state) {
        _cleanup_free_ char *lic = floating_license(LICENSE_FLOATING, site_pub, 3), *text = NULL;
        _cleanup_(lease_done) Lease ls = LEASE_INIT, back = LEASE_INIT;
        _cleanup_(armor_done) Armor a = {};
        CoreError err = {};

        fill_lease(&ls, lic);
        ls.borrowed_until = T0 + 3 * SEC_PER_DAY;
        text = sign_lease(&ls, site_key);
        assert_non_null(strstr(text, "-----BEGIN LICENSED FLOATING LEASE-----"));
        assert_int_equal(lease_verify_with_key(text, strlen(text), site_key, &back, &err), 0);
        assert_string_equal(back.id, LEASE_ID);
        assert_string_equal(back.site, SITE_ID);
        assert_string_equal(back.user, "alice");
        assert_int_equal(back.expires, T0 + 220);
        assert_int_equal(back.borrowed_until, T0 + 3 * SEC_PER_DAY);

        /* The canonical body, field by field, in the documented order. */
        assert_int_equal(armor_decode(text, strlen(text), LEASE_KIND, &a, NULL), 0);
        assert_true(startswith((const char *) a.body, "licensed-lease: 1\nsite: " SITE_ID "\nid: " LEASE_ID
                                                       "\nproduct: com.example.cad\nfeature: cad\nmachine-id: "));
        assert_non_null(strstr((const char *) a.body, "\ngranted: 2026-01-01T00:01:40Z\nexpires: "
                                                      "2026-01-01T00:03:40Z\nborrowed-until: 2026-01-04T00:00:00Z\n"
                                                      "license: "));

        /* Another key's lease. */
        assert_int_equal(lease_verify_with_key(text, strlen(text), other_key, &back, &err), -ENOKEY);
}

static void test_lease_sign_refuses(void **state) {
        _cleanup_free_ char *lic = floating_license(LICENSE_FLOATING, site_pub, 3);
        char *text = NULL;

        {
                _cleanup_(lease_done) Lease ls = LEASE_INIT;
                fill_lease(&ls, lic);
                ls.expires = ls.granted;
                assert_int_equal(lease_sign(&ls, site_key, &text), -EINVAL);
        }
        {
                _cleanup_(lease_done) Lease ls = LEASE_INIT;
                fill_lease(&ls, lic);
                free(ls.feature);
                ls.feature = strdup("CAD Tool");
                assert_int_equal(lease_sign(&ls, site_key, &text), -EINVAL);
        }
        {
                _cleanup_(lease_done) Lease ls = LEASE_INIT;
                fill_lease(&ls, lic);
                free(ls.user);
                ls.user = NULL;
                assert_int_equal(lease_sign(&ls, site_key, &text), -EINVAL);
        }
        assert_null(text);
}

/* Signs body as a lease with the site key. */
static char *sign_body(const char *body) {
        char *text = NULL;
        assert_int_equal(armor_sign(site_key, LEASE_KIND, (const uint8_t *) body, strlen(body), &text), 0);
        return text;
}

static void test_lease_body_errors(void **state) {
#define HEAD "licensed-lease: 1\nsite: " SITE_ID "\nid: " LEASE_ID "\nproduct: com.example.cad\n"
#define MID "machine-id: " CLIENT_ID "\ndevice-key: AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\nuser: a\nhost: h\n"
#define LIC "license: " "0000000000000000000000000000000000000000000000000000000000000000\n"
        static const struct {
                const char *body, *message;
        } cases[] = {
                {HEAD "feature: cad\n" MID "granted: 2026-01-01T00:00:00Z\nexpires: 2026-01-01T00:02:00Z\n" LIC, NULL},
                {HEAD "feature: Cad\n" MID "granted: 2026-01-01T00:00:00Z\nexpires: 2026-01-01T00:02:00Z\n" LIC,
                 "is not a feature name"},
                {HEAD "feature: cad\n" MID "granted: 2026-01-01T00:00:00Z\nexpires: 2026-01-01T00:00:00Z\n" LIC,
                 "expires before it is granted"},
                {HEAD "feature: cad\n" MID "granted: 2026-01-01T00:00:00Z\nexpires: 2026-01-01T00:02:00Z\n"
                      "borrowed-until: 2025-01-01T00:00:00Z\n" LIC,
                 "borrowed until before"},
                {HEAD "feature: cad\n" MID "granted: 2026-01-01T00:00:00Z\nexpires: 2026-01-01T00:02:00Z\n",
                 "license"},
                {HEAD "feature: cad\n" MID "expires: 2026-01-01T00:02:00Z\ngranted: 2026-01-01T00:00:00Z\n" LIC,
                 "must come before"},
                {HEAD "feature: cad\n" MID "granted: 2026-01-01T00:00:00Z\nexpires: 2026-01-01T00:02:00Z\n" LIC
                      "extra: 1\n",
                 "unknown"},
                {HEAD "feature: cad\n" MID "granted: 2026-01-01\nexpires: 2026-01-01T00:02:00Z\n" LIC, "granted"},
        };
#undef HEAD
#undef MID
#undef LIC
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_free_ char *text = sign_body(cases[i].body);
                _cleanup_(lease_done) Lease ls = LEASE_INIT;
                CoreError err = {};
                int r = lease_verify_with_key(text, strlen(text), site_key, &ls, &err);

                if (!cases[i].message) {
                        assert_int_equal(r, 0);
                        continue;
                }
                if (r != -EBADMSG || !strstr(err.message, cases[i].message))
                        fail_msg("case %zu: %d %s", i, r, err.message);
        }
}

static void test_chain(void **state) {
        _cleanup_free_ char *lic = floating_license(LICENSE_FLOATING, site_pub, 3), *text = NULL;
        _cleanup_(lease_done) Lease ls = LEASE_INIT;
        _cleanup_(license_done) License got_lic = LICENSE_INIT;
        _cleanup_(lease_done) Lease got = LEASE_INIT;
        CoreError err = {};

        fill_lease(&ls, lic);
        text = sign_lease(&ls, site_key);

        assert_int_equal(lease_check_chain(lic, strlen(lic), text, strlen(text), &products, CLIENT_ID, client_pub,
                                           T0 + 150, &got_lic, &got, &err),
                         0);
        assert_string_equal(got_lic.id, "acme-float-1");
        assert_string_equal(got.id, LEASE_ID);

        /* Time: before granted, at expiry. */
        assert_int_equal(check(lic, text, T0 + 99, &err), -ETIME);
        assert_int_equal(check(lic, text, T0 + 220, &err), -ETIME);
        assert_non_null(strstr(err.message, "ended at 2026-01-01T00:03:40Z"));
        /* The license itself over. */
        assert_int_equal(check(lic, text, T0 + 400 * SEC_PER_DAY, &err), -ETIME);

        /* Another client presenting it. */
        err = (CoreError) {};
        assert_int_equal(lease_check_chain(lic, strlen(lic), text, strlen(text), &products, CLIENT_ID, other_pub,
                                           T0 + 150, NULL, NULL, &err),
                         -EPERM);
        assert_non_null(strstr(err.message, "granted to another machine"));
}

static void test_chain_borrowed(void **state) {
        _cleanup_free_ char *lic = floating_license(LICENSE_FLOATING, site_pub, 3), *text = NULL;
        _cleanup_(lease_done) Lease ls = LEASE_INIT;
        CoreError err = {};

        fill_lease(&ls, lic);
        ls.borrowed_until = T0 + 3 * SEC_PER_DAY;
        text = sign_lease(&ls, site_key);
        /* No heartbeat needed: long after expires, before borrowed-until. */
        assert_int_equal(check(lic, text, T0 + 2 * SEC_PER_DAY, &err), 0);
        assert_int_equal(check(lic, text, T0 + 3 * SEC_PER_DAY, &err), -ETIME);
}

static void test_chain_refusals(void **state) {
        _cleanup_free_ char *lic = floating_license(LICENSE_FLOATING, site_pub, 3);
        CoreError err = {};

        /* Signed by another site key. */
        {
                _cleanup_(lease_done) Lease ls = LEASE_INIT;
                _cleanup_free_ char *text = NULL;
                fill_lease(&ls, lic);
                text = sign_lease(&ls, other_key);
                assert_int_equal(check(lic, text, T0 + 150, &err), -ENOKEY);
                assert_non_null(strstr(err.message, "not from the site of license acme-float-1"));
        }
        /* Edited: one body character changed, the signature kept. */
        {
                _cleanup_(lease_done) Lease ls = LEASE_INIT;
                _cleanup_(armor_done) Armor a = {};
                _cleanup_free_ char *text = NULL, *edited = NULL;
                char *p;
                fill_lease(&ls, lic);
                text = sign_lease(&ls, site_key);
                assert_int_equal(armor_decode(text, strlen(text), LEASE_KIND, &a, NULL), 0);
                p = strstr((char *) a.body, "user: alice");
                assert_non_null(p);
                p[6] = 'A';
                assert_int_equal(armor_encode(LEASE_KIND, a.key_id, a.signature, a.body, a.body_len, &edited), 0);
                assert_int_equal(check(lic, edited, T0 + 150, &err), -EKEYREJECTED);
        }
        /* A lease that names another license (another digest). */
        {
                _cleanup_(lease_done) Lease ls = LEASE_INIT;
                _cleanup_free_ char *text = NULL, *lic2 = floating_license(LICENSE_FLOATING, site_pub, 5);
                fill_lease(&ls, lic2);
                text = sign_lease(&ls, site_key);
                assert_int_equal(check(lic, text, T0 + 150, &err), -EXDEV);
                assert_non_null(strstr(err.message, "another floating license"));
        }
        /* Another site id. */
        {
                _cleanup_(lease_done) Lease ls = LEASE_INIT;
                _cleanup_free_ char *text = NULL;
                fill_lease(&ls, lic);
                free(ls.site);
                ls.site = strdup("ffffffffffffffffffffffffffffffff");
                text = sign_lease(&ls, site_key);
                assert_int_equal(check(lic, text, T0 + 150, &err), -EXDEV);
        }
        /* A feature the license does not count. */
        {
                _cleanup_(lease_done) Lease ls = LEASE_INIT;
                _cleanup_free_ char *text = NULL;
                fill_lease(&ls, lic);
                free(ls.feature);
                ls.feature = strdup("sim");
                text = sign_lease(&ls, site_key);
                assert_int_equal(check(lic, text, T0 + 150, &err), -EXDEV);
                assert_non_null(strstr(err.message, "no seats for feature sim"));
        }
}

static void test_chain_license(void **state) {
        CoreError err = {};

        /* Not floating: a subscription bound to the site key does not serve leases. */
        {
                _cleanup_free_ char *lic = floating_license(LICENSE_SUBSCRIPTION, site_pub, 3), *text = NULL;
                _cleanup_(lease_done) Lease ls = LEASE_INIT;
                fill_lease(&ls, lic);
                text = sign_lease(&ls, site_key);
                assert_int_equal(check(lic, text, T0 + 150, &err), -EXDEV);
                assert_non_null(strstr(err.message, "not a floating one"));
        }
        /* Signed by a key the product does not trust. */
        {
                _cleanup_free_ char *lic = signed_license(LICENSE_FLOATING, site_pub, 100, other_key), *text = NULL;
                _cleanup_(lease_done) Lease ls = LEASE_INIT;
                fill_lease(&ls, lic);
                text = sign_lease(&ls, site_key);
                assert_int_equal(check(lic, text, T0 + 150, &err), -ENOKEY);
        }
}

static void test_floating_license_rules(void **state) {
        _cleanup_(license_done) License l = LICENSE_INIT;
        char *text = NULL;

        /* Every feature of a floating license has seats. */
        l.id = strdup("f");
        l.revision = 1;
        l.product = strdup("com.example.cad");
        l.licensee = strdup("ACME");
        l.type = LICENSE_FLOATING;
        l.issued = T0;
        assert_int_equal(license_add_feature(&l, "cad", TIME_UNSET, 0, NULL), 0);
        assert_int_equal(license_sign(&l, vendor_key, &text), -EINVAL);
        assert_null(text);
        /* With a limit, and without not-after (perpetual seats), it is a license. */
        l.features[0].limit = 2;
        assert_int_equal(license_sign(&l, vendor_key, &text), 0);
        assert_non_null(strstr(text, "BEGIN LICENSED LICENSE"));
        free(text);
        assert_string_equal(license_type_to_string(LICENSE_FLOATING), "floating");
}

static void fill_request(SiteRequest *r, SiteRequestType type) {
        *r = (SiteRequest) SITE_REQUEST_INIT;
        r->type = type;
        r->site = strdup(SITE_ID);
        r->machine_id = strdup(CLIENT_ID);
        r->device_key = strdup(client_pub);
        r->nonce = strdup(TEST_NONCE);
        r->created = T0;
        switch (type) {
        case SITE_REQUEST_ENROL:
                r->token = strdup("abababababababababababababababab");
                r->host = strdup("ws-17");
                break;
        case SITE_REQUEST_BORROW:
                r->borrow_until = T0 + SEC_PER_DAY;
                __attribute__((fallthrough));
        case SITE_REQUEST_CHECKOUT:
                r->product = strdup("com.example.cad");
                r->feature = strdup("cad");
                r->user = strdup("alice");
                r->host = strdup("ws-17");
                break;
        case SITE_REQUEST_HEARTBEAT:
        case SITE_REQUEST_RETURN:
                r->lease = strdup(LEASE_ID);
                break;
        case SITE_REQUEST_RELEASE:
                r->lease = strdup(LEASE_ID);
                r->host = strdup("admin-ws");
                break;
        default:
                break;
        }
}

static void test_site_request_round_trip(void **state) {
        for (int t = 0; t < _SITE_REQUEST_TYPE_MAX; t++) {
                _cleanup_(site_request_done) SiteRequest r = SITE_REQUEST_INIT, back = SITE_REQUEST_INIT;
                _cleanup_free_ char *text = NULL;
                CoreError err = {};

                fill_request(&r, (SiteRequestType) t);
                assert_int_equal(site_request_sign(&r, client_key, &text), 0);
                assert_int_equal(site_request_verify(text, strlen(text), &back, &err), 0);
                assert_int_equal(back.type, t);
                assert_string_equal(back.site, SITE_ID);
                assert_int_equal(!!back.lease, t == SITE_REQUEST_HEARTBEAT || t == SITE_REQUEST_RETURN ||
                                                       t == SITE_REQUEST_RELEASE);
                assert_int_equal(back.borrow_until, t == SITE_REQUEST_BORROW ? T0 + SEC_PER_DAY : 0);
        }
}

static void test_site_request_refusals(void **state) {
        _cleanup_free_ char *text = NULL;
        char *none = NULL;

        /* A member the type has no field for is refused, not dropped. */
        {
                _cleanup_(site_request_done) SiteRequest r = SITE_REQUEST_INIT;
                fill_request(&r, SITE_REQUEST_HEARTBEAT);
                r.product = strdup("com.example.cad");
                assert_int_equal(site_request_sign(&r, client_key, &none), -EINVAL);
        }
        /* A missing one too. */
        {
                _cleanup_(site_request_done) SiteRequest r = SITE_REQUEST_INIT;
                fill_request(&r, SITE_REQUEST_CHECKOUT);
                free(r.user);
                r.user = NULL;
                assert_int_equal(site_request_sign(&r, client_key, &none), -EINVAL);
        }
        /* Signed by another key than the device-key inside. */
        {
                _cleanup_(site_request_done) SiteRequest r = SITE_REQUEST_INIT;
                fill_request(&r, SITE_REQUEST_STATUS);
                assert_int_equal(site_request_sign(&r, other_key, &none), -EINVAL);
        }
        assert_null(none);

        /* Bodies signed by hand: the type's rules. */
        static const struct {
                const char *body, *message;
        } cases[] = {
                {"type: status\n", "licensed-site-request"},
                {"licensed-site-request: 1\ntype: status\nsite: " SITE_ID "\nmachine-id: " CLIENT_ID
                 "\ndevice-key: @\nnonce: " TEST_NONCE "\ncreated: 2026-01-01T00:00:00Z\n",
                 "device-key"},
                {"licensed-site-request: 1\ntype: dance\n", "unknown site request type"},
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_free_ char *t = NULL;
                _cleanup_(site_request_done) SiteRequest r = SITE_REQUEST_INIT;
                CoreError err = {};
                assert_int_equal(armor_sign(client_key, SITE_REQUEST_KIND, (const uint8_t *) cases[i].body,
                                            strlen(cases[i].body), &t),
                                 0);
                assert_int_not_equal(site_request_verify(t, strlen(t), &r, &err), 0);
                if (!strstr(err.message, cases[i].message))
                        fail_msg("case %zu: %s", i, err.message);
        }

        /* A field of another type, and the Key-Id of another key. */
        {
                _cleanup_(site_request_done) SiteRequest r = SITE_REQUEST_INIT, back = SITE_REQUEST_INIT;
                _cleanup_free_ char *body = NULL, *t = NULL;
                CoreError err = {};
                fill_request(&r, SITE_REQUEST_STATUS);
                assert_int_equal(asprintf(&body,
                                          "licensed-site-request: 1\ntype: status\nsite: %s\nmachine-id: %s\n"
                                          "device-key: %s\nnonce: %s\ncreated: 2026-01-01T00:00:00Z\n"
                                          "lease: %s\n",
                                          SITE_ID, CLIENT_ID, client_pub, TEST_NONCE, LEASE_ID) > 0,
                                 1);
                assert_int_equal(armor_sign(client_key, SITE_REQUEST_KIND, (const uint8_t *) body, strlen(body), &t),
                                 0);
                assert_int_equal(site_request_verify(t, strlen(t), &back, &err), -EBADMSG);
                assert_non_null(strstr(err.message, "a status request has no 'lease' field"));
                free(t);
                t = NULL;
                body[strlen(body) - strlen("lease: " LEASE_ID "\n")] = 0;
                assert_int_equal(armor_sign(other_key, SITE_REQUEST_KIND, (const uint8_t *) body, strlen(body), &t),
                                 0);
                assert_int_equal(site_request_verify(t, strlen(t), &back, &err), -ENOKEY);
        }
        (void) text;
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_lease_round_trip),
                cmocka_unit_test(test_lease_sign_refuses),
                cmocka_unit_test(test_lease_body_errors),
                cmocka_unit_test(test_chain),
                cmocka_unit_test(test_chain_borrowed),
                cmocka_unit_test(test_chain_refusals),
                cmocka_unit_test(test_chain_license),
                cmocka_unit_test(test_floating_license_rules),
                cmocka_unit_test(test_site_request_round_trip),
                cmocka_unit_test(test_site_request_refusals),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}
