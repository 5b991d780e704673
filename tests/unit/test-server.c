/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* licensed-server without sockets: the routing table, the Content-Type
 * rule, the mapping of the database's answers to HTTP, and the handlers
 * themselves on an in-memory database with machine documents signed here. */
#include "test-util.h"
#include "crypto.h"
#include "license-key.h"
#include "request.h"
#include "server.h"
#include "strutil.h"

#define PRODUCT "com.example.app"

/* Routing -------------------------------------------------------------------- */

static void test_routes(void **state) {
        static const struct {
                const char *method, *path;
                ApiHandler api;
                bool found, path_known;
        } cases[] = {
                {"POST", "/v1/activate", api_activate, true, true},
                {"POST", "/v1/offline", api_offline, true, true},
                {"POST", "/v1/validate", api_validate, true, true},
                {"POST", "/v1/deactivate", api_deactivate, true, true},
                {"GET", "/v1/health", api_health, true, true},
                {"HEAD", "/v1/health", api_health, true, true},
                {"GET", "/", NULL, true, true},
                {"HEAD", "/offline", NULL, true, true},
                /* a known path, another method: 405 */
                {"GET", "/v1/activate", NULL, false, true},
                {"HEAD", "/v1/activate", NULL, false, true},
                {"POST", "/v1/health", NULL, false, true},
                {"DELETE", "/", NULL, false, true},
                /* unknown paths, exactly: 404 */
                {"POST", "/v1/activate/", NULL, false, false},
                {"POST", "/V1/ACTIVATE", NULL, false, false},
                {"GET", "/v1", NULL, false, false},
                {"GET", "", NULL, false, false},
                {"get", "/v1/health", NULL, false, true},
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                bool known = !cases[i].path_known;
                const Route *r = route_find(cases[i].method, cases[i].path, &known);

                print_message("%s %s\n", cases[i].method, cases[i].path);
                assert_int_equal(r != NULL, cases[i].found);
                assert_int_equal(known, cases[i].path_known);
                if (r) {
                        assert_ptr_equal(r->api, cases[i].api);
                        assert_string_equal(r->path, cases[i].path);
                }
        }
}

static void test_allow(void **state) {
        assert_string_equal(route_allow("/v1/activate"), "POST");
        assert_string_equal(route_allow("/v1/health"), "GET, HEAD");
        assert_string_equal(route_allow("/"), "GET, HEAD");
        assert_null(route_allow("/nope"));
}

static void test_content_type(void **state) {
        static const struct {
                const char *value;
                bool json;
        } cases[] = {
                {"application/json", true},
                {"Application/JSON", true},
                {"  application/json  ", true},
                {"application/json; charset=utf-8", true},
                {"application/json;charset=UTF-8", true},
                {"application/json; charset=\"utf-8\"", true},
                {"application/json; foo=bar; charset=utf-8", true},
                {"application/json; foo=bar", true},
                {"application/json; charset=latin1", false},
                {"application/json; charset=utf-16", false},
                {"application/json; charset=utf-8x", false},
                {"application/jsonx", false},
                {"application/json-patch+json", false},
                {"text/json", false},
                {"text/plain", false},
                {"", false},
                {NULL, false},
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                print_message("%s\n", cases[i].value ?: "(none)");
                assert_int_equal(content_type_is_json(cases[i].value), cases[i].json);
        }
}

/* Replies ---------------------------------------------------------------------- */

static const char *error_code(const Reply *r) {
        json_object *e, *code;

        assert_true(json_object_object_get_ex(r->body, "error", &e));
        assert_true(json_object_object_get_ex(e, "code", &code));
        return json_object_get_string(code);
}

static const char *error_message(const Reply *r) {
        json_object *e, *message;

        assert_true(json_object_object_get_ex(r->body, "error", &e));
        assert_true(json_object_object_get_ex(e, "message", &message));
        return json_object_get_string(message);
}

static const char *member(const Reply *r, const char *name) {
        json_object *v;

        assert_true(json_object_object_get_ex(r->body, name, &v));
        return json_object_get_string(v);
}

static void test_storage_answers(void **state) {
        static const struct {
                StorageResult result;
                unsigned status;
                const char *code;
        } cases[] = {
                {STORAGE_UNKNOWN_KEY, 404, "unknown-key"},
                {STORAGE_UNKNOWN_LICENSE, 404, "unknown-license"},
                {STORAGE_WRONG_PRODUCT, 403, "wrong-product"},
                {STORAGE_REVOKED, 403, "revoked"},
                {STORAGE_NO_SEAT, 409, "seat-limit"},
                {STORAGE_PROOF_USED, 409, "proof-used"},
                {STORAGE_WRONG_MACHINE, 403, "wrong-machine"},
        };

        assert_int_equal(ELEMENTSOF(cases), _STORAGE_RESULT_MAX - 1); /* every answer has its reply */
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_(reply_done) Reply reply = {};

                assert_int_equal(reply_storage_answer(&reply, cases[i].result, "what happened"), 0);
                assert_int_equal(reply.status, cases[i].status);
                assert_string_equal(error_code(&reply), cases[i].code);
                assert_string_equal(error_message(&reply), "what happened");
        }
}

/* Handlers ---------------------------------------------------------------------- */

typedef struct Fixture {
        Server server;
        EVP_PKEY *device_key;
        char *device_pub;
        char key[LICENSE_KEY_STRING_SIZE];
} Fixture;

static void create_entitlement(Fixture *f, const char *key, uint32_t seats) {
        _cleanup_(entitlement_done) Entitlement e = ENTITLEMENT_INIT;
        CoreError err = {};

        snprintf(e.key, sizeof(e.key), "%s", key);
        e.license.product = strdup(PRODUCT);
        e.license.licensee = strdup("ACME Corp");
        e.license.type = LICENSE_PERPETUAL;
        e.license.revision = 1;
        assert_int_equal(license_add_feature(&e.license, "reports", TIME_UNSET, 0, NULL), 0);
        e.seats = seats;
        assert_int_equal(storage_entitlement_create(f->server.storage, &e, &err), 0);
}

static int setup(void **state) {
        Fixture *f = calloc(1, sizeof(*f));
        CoreError err = {};

        assert_non_null(f);
        assert_int_equal(storage_open(STORAGE_IN_MEMORY, &f->server.storage, &err), 0);
        assert_int_equal(ed25519_generate(&f->server.signing_key), 0);
        assert_int_equal(ed25519_generate(&f->device_key), 0);
        assert_int_equal(ed25519_public_base64(f->device_key, &f->device_pub), 0);
        assert_int_equal(license_key_generate(f->key), 0);
        create_entitlement(f, f->key, 1);
        *state = f;
        return 0;
}

static int teardown(void **state) {
        Fixture *f = *state;

        storage_close(f->server.storage);
        EVP_PKEY_free(f->server.signing_key);
        EVP_PKEY_free(f->device_key);
        free(f->device_pub);
        free(f);
        return 0;
}

/* A body {member: document} with a machine document signed by the fixture's
 * device key; for activation key is the license key, otherwise license_id
 * names the license. */
static json_object *signed_body(Fixture *f, MachineRequestType type, const char *member_name,
                                const char *product, const char *machine_id, const char *key_or_id) {
        _cleanup_(machine_request_done) MachineRequest r = MACHINE_REQUEST_INIT;
        _cleanup_free_ char *text = NULL, *nonce = calloc(1, 33);
        json_object *body = json_object_new_object();

        assert_non_null(nonce);
        assert_int_equal(nonce_generate(nonce), 0);
        r.type = type;
        r.product = strdup(product);
        if (type == MACHINE_REQUEST_ACTIVATION)
                r.key = strdup(key_or_id);
        else {
                r.license_id = strdup(key_or_id);
                r.revision = 1;
        }
        r.machine_id = strdup(machine_id);
        r.device_key = strdup(f->device_pub);
        r.nonce = TAKE_PTR(nonce);
        r.created = now_realtime();
        assert_int_equal(machine_request_sign(&r, f->device_key, &text), 0);
        json_object_object_add(body, member_name, json_object_new_string(text));
        return body;
}

/* Calls handler with body (consumed) and checks the status. */
static void call(Fixture *f, ApiHandler handler, json_object *body, unsigned status, Reply *reply) {
        assert_int_equal(handler(&f->server, body, reply), 0);
        json_object_put(body);
        print_message("%u %s\n", reply->status, reply->note);
        assert_int_equal(reply->status, status);
}

static void test_health(void **state) {
        _cleanup_(reply_done) Reply reply = {};

        call(*state, api_health, NULL, 200, &reply);
        assert_string_equal(member(&reply, "status"), "ok");
}

static void test_bad_bodies(void **state) {
        _cleanup_(reply_done) Reply reply = {};
        json_object *body = json_object_new_object();

        call(*state, api_activate, body, 400, &reply);
        assert_string_equal(error_code(&reply), "bad-request");

        body = json_object_new_object();
        json_object_object_add(body, "request", json_object_new_string("not a document"));
        call(*state, api_activate, body, 400, &reply);
        assert_string_equal(error_code(&reply), "invalid-request");
}

static void test_activate_and_deactivate(void **state) {
        _cleanup_(reply_done) Reply reply = {};
        _cleanup_free_ char *license_id = NULL;
        Fixture *f = *state;
        char masked[LICENSE_KEY_STRING_SIZE];

        call(f, api_activate,
             signed_body(f, MACHINE_REQUEST_ACTIVATION, "request", PRODUCT, TEST_MACHINE_ID, f->key), 200,
             &reply);
        license_id = strdup(member(&reply, "license_id"));
        assert_non_null(startswith(member(&reply, "license"), "-----BEGIN LICENSED LICENSE-----\n"));

        /* One seat: another machine is told the limit. */
        call(f, api_activate,
             signed_body(f, MACHINE_REQUEST_ACTIVATION, "request", PRODUCT,
                         "ffffffffffffffffffffffffffffffff", f->key),
             409, &reply);
        assert_string_equal(error_code(&reply), "seat-limit");

        /* Another product, a key nobody created (named masked, not in clear). */
        call(f, api_activate,
             signed_body(f, MACHINE_REQUEST_ACTIVATION, "request", "com.example.other", TEST_MACHINE_ID,
                         f->key),
             403, &reply);
        assert_string_equal(error_code(&reply), "wrong-product");
        char unknown[LICENSE_KEY_STRING_SIZE];
        assert_int_equal(license_key_generate(unknown), 0);
        license_key_mask(unknown, masked);
        call(f, api_activate,
             signed_body(f, MACHINE_REQUEST_ACTIVATION, "request", PRODUCT, TEST_MACHINE_ID, unknown), 404,
             &reply);
        assert_string_equal(error_code(&reply), "unknown-key");
        assert_non_null(strstr(error_message(&reply), masked));
        assert_null(strstr(error_message(&reply), unknown));

        /* Validation, then the proof: once. */
        call(f, api_validate,
             signed_body(f, MACHINE_REQUEST_VALIDATION, "request", PRODUCT, TEST_MACHINE_ID, license_id),
             200, &reply);
        assert_string_equal(member(&reply, "status"), "valid");
        json_object *proof =
                signed_body(f, MACHINE_REQUEST_DEACTIVATION, "proof", PRODUCT, TEST_MACHINE_ID, license_id);
        json_object_get(proof);
        call(f, api_deactivate, proof, 200, &reply);
        assert_string_equal(member(&reply, "status"), "released");
        call(f, api_deactivate, proof, 409, &reply);
        assert_string_equal(error_code(&reply), "proof-used");

        /* A license id nobody activated. */
        call(f, api_validate,
             signed_body(f, MACHINE_REQUEST_VALIDATION, "request", PRODUCT, TEST_MACHINE_ID, "acme-0002"),
             404, &reply);
        assert_string_equal(error_code(&reply), "unknown-license");
}

static void test_revoked(void **state) {
        _cleanup_(reply_done) Reply reply = {};
        Fixture *f = *state;
        CoreError err = {};

        assert_int_equal(storage_entitlement_revoke(f->server.storage, f->key, &err), 0);
        call(f, api_activate,
             signed_body(f, MACHINE_REQUEST_ACTIVATION, "request", PRODUCT, TEST_MACHINE_ID, f->key), 403,
             &reply);
        assert_string_equal(error_code(&reply), "revoked");
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_routes),
                cmocka_unit_test(test_allow),
                cmocka_unit_test(test_content_type),
                cmocka_unit_test(test_storage_answers),
                cmocka_unit_test_setup_teardown(test_health, setup, teardown),
                cmocka_unit_test_setup_teardown(test_bad_bodies, setup, teardown),
                cmocka_unit_test_setup_teardown(test_activate_and_deactivate, setup, teardown),
                cmocka_unit_test_setup_teardown(test_revoked, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
