/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* licensed-server without sockets: the routing table, the Content-Type
 * rule, the mapping of the database's answers to HTTP, and the handlers
 * themselves on an in-memory database with machine documents signed here. */
#include <strings.h>

#include "test-util.h"
#include "crypto.h"
#include "license-key.h"
#include "request.h"
#include "server.h"
#include "admin-token.h"
#include "strutil.h"
#include "timeutil.h"

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
                const Route *r = route_find(cases[i].method, cases[i].path, ROUTES_PUBLIC | ROUTES_ADMIN, NULL,
                                            &known);

                print_message("%s %s\n", cases[i].method, cases[i].path);
                assert_int_equal(r != NULL, cases[i].found);
                assert_int_equal(known, cases[i].path_known);
                if (r) {
                        assert_ptr_equal(r->api, cases[i].api);
                        assert_string_equal(r->path, cases[i].path);
                }
        }
}

/* {key} segments, and which listener answers what (--admin-listen). */
static void test_route_params(void **state) {
        static const unsigned all = ROUTES_PUBLIC | ROUTES_ADMIN;
        static const struct {
                const char *method, *path;
                unsigned set;
                const char *route, *param; /* route NULL: none */
                bool path_known;
        } cases[] = {
                {"GET", "/v1/admin/entitlements", all, "/v1/admin/entitlements", "", true},
                {"POST", "/v1/admin/entitlements", all, "/v1/admin/entitlements", "", true},
                {"GET", "/v1/admin/entitlements/ABCDE-1", all, "/v1/admin/entitlements/{key}", "ABCDE-1", true},
                {"HEAD", "/v1/admin/entitlements/K", all, "/v1/admin/entitlements/{key}", "K", true},
                {"POST", "/v1/admin/entitlements/K/upgrade", all, "/v1/admin/entitlements/{key}/upgrade", "K", true},
                {"POST", "/v1/admin/entitlements/K/revoke", all, "/v1/admin/entitlements/{key}/revoke", "K", true},
                {"POST", "/v1/admin/entitlements/K/release", all, "/v1/admin/entitlements/{key}/release", "K", true},
                {"GET", "/v1/admin/entitlements/K/activations", all, "/v1/admin/entitlements/{key}/activations", "K",
                 true},
                {"GET", "/v1/admin/keys", all, "/v1/admin/keys", "", true},
                /* another method on a known path */
                {"GET", "/v1/admin/entitlements/K/upgrade", all, NULL, "", true},
                {"POST", "/v1/admin/entitlements/K", all, NULL, "", true},
                {"DELETE", "/v1/admin/entitlements", all, NULL, "", true},
                /* an empty, extra or over-long segment is no match */
                {"GET", "/v1/admin/entitlements/", all, NULL, "", false},
                {"POST", "/v1/admin/entitlements//upgrade", all, NULL, "", false},
                {"GET", "/v1/admin/entitlements/K/activations/x", all, NULL, "", false},
                {"GET", "/v1/admin/entitlements/K/", all, NULL, "", false},
                {"GET", "/v1/admin/entitlements/"
                        "0123456789012345678901234567890123456789012345678901234567890123456789", all, NULL, "", false},
                {"GET", "/v1/admin/entitlement", all, NULL, "", false},
                /* the main listener when --admin-listen moved the admin routes: 404 */
                {"GET", "/v1/admin/entitlements", ROUTES_PUBLIC, NULL, "", false},
                {"POST", "/v1/admin/entitlements/K/revoke", ROUTES_PUBLIC, NULL, "", false},
                {"GET", "/v1/health", ROUTES_PUBLIC, "/v1/health", "", true},
                /* the admin listener answers only the admin routes */
                {"GET", "/v1/health", ROUTES_ADMIN, NULL, "", false},
                {"POST", "/v1/activate", ROUTES_ADMIN, NULL, "", false},
                {"GET", "/v1/admin/products", ROUTES_ADMIN, "/v1/admin/products", "", true},
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                char param[ROUTE_PARAM_MAX + 1] = "junk";
                bool known = !cases[i].path_known;
                const Route *r = route_find(cases[i].method, cases[i].path, cases[i].set, param, &known);

                print_message("%s %s\n", cases[i].method, cases[i].path);
                assert_int_equal(known, cases[i].path_known);
                if (!cases[i].route) {
                        assert_null(r);
                        continue;
                }
                assert_non_null(r);
                assert_string_equal(r->path, cases[i].route);
                assert_string_equal(param, cases[i].param);
        }
}

static void test_allow(void **state) {
        static const unsigned all = ROUTES_PUBLIC | ROUTES_ADMIN;

        assert_string_equal(route_allow("/v1/activate", all), "POST");
        assert_string_equal(route_allow("/v1/health", all), "GET, HEAD");
        assert_string_equal(route_allow("/", all), "GET, HEAD");
        assert_string_equal(route_allow("/v1/admin/entitlements", all), "GET, HEAD, POST");
        assert_string_equal(route_allow("/v1/admin/entitlements/K/upgrade", all), "POST");
        assert_null(route_allow("/v1/admin/entitlements", ROUTES_PUBLIC));
        assert_null(route_allow("/nope", all));
}

/* docs/openapi.json (built in) has every route of the table, and nothing
 * else: the document cannot fall behind the server. */
static void test_openapi_matches_routes(void **state) {
        json_object *doc = json_tokener_parse(openapi_json), *paths, *item;
        size_t n, documented = 0;
        const Route *table = route_table(&n);

        assert_non_null(doc);
        assert_true(json_object_object_get_ex(doc, "paths", &paths));
        for (size_t i = 0; i < n; i++) {
                char method[8];

                snprintf(method, sizeof(method), "%s", table[i].method);
                for (char *p = method; *p; p++)
                        *p = (char) (*p - 'A' + 'a');
                print_message("%s %s\n", table[i].method, table[i].path);
                assert_true(json_object_object_get_ex(paths, table[i].path, &item));
                assert_true(json_object_object_get_ex(item, method, NULL));
        }
        json_object_object_foreach(paths, path, methods) {
                json_object_object_foreach(methods, method, operation) {
                        bool found = false;

                        (void) operation;
                        for (size_t i = 0; i < n && !found; i++)
                                found = streq(table[i].path, path) && strcasecmp(table[i].method, method) == 0;
                        print_message("documented: %s %s\n", method, path);
                        assert_true(found);
                        documented++;
                }
        }
        assert_int_equal(documented, n);
        json_object_put(doc);
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
                {STORAGE_TRIAL_USED, 409, "trial-used"},
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

/* Admin API ---------------------------------------------------------------------- */

/* Stores a token; returns it as a client would send it (free()). */
static char *make_token(Fixture *f, const char *name, TokenScope scope, int64_t expires) {
        Token t = {.name = (char *) name, .scope = scope, .created = now_realtime(), .expires = expires};
        char *token = NULL;
        CoreError err = {};

        assert_int_equal(admin_token_generate(&token), 0);
        assert_int_equal(admin_token_hash(token, t.hash), 0);
        assert_int_equal(storage_token_create(f->server.storage, &t, &err), 0);
        return token;
}

static char *bearer(const char *token) {
        char *h = NULL;
        assert_true(asprintf(&h, "Bearer %s", token) > 0);
        return h;
}

static void test_tokens(void **state) {
        Fixture *f = *state;
        _cleanup_free_ char *w = make_token(f, "shop", TOKEN_SCOPE_WRITE, TIME_UNSET),
                            *r = make_token(f, "crm", TOKEN_SCOPE_READ, TIME_UNSET),
                            *old = make_token(f, "old", TOKEN_SCOPE_WRITE, now_realtime() - 1),
                            *gone = make_token(f, "gone", TOKEN_SCOPE_WRITE, TIME_UNSET);
        _cleanup_free_ char *hw = bearer(w), *hr = bearer(r), *hold = bearer(old), *hgone = bearer(gone);
        _cleanup_free_ char *wrong = bearer("lsd_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
        Token *list = NULL;
        size_t n = 0;
        CoreError err = {};

        /* 256 random bits: "lsd_" and 43 base64url characters. */
        assert_int_equal(strlen(w), 4 + 43);
        assert_true(startswith(w, ADMIN_TOKEN_PREFIX));
        assert_int_equal(strspn(w + 4, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"), 43);
        assert_string_not_equal(w, r);
        assert_int_equal(storage_token_revoke(f->server.storage, "gone", now_realtime(), &err), 0);
        assert_int_equal(storage_token_revoke(f->server.storage, "gone", now_realtime(), &err), -ENOENT);

        static const struct {
                int which; /* 0 write, 1 read, 2 expired, 3 revoked, 4 unknown, 5 none, 6 not Bearer */
                TokenScope scope;
                int result;
        } cases[] = {
                {0, TOKEN_SCOPE_WRITE, 0}, {0, TOKEN_SCOPE_READ, 0},       {1, TOKEN_SCOPE_READ, 0},
                {1, TOKEN_SCOPE_WRITE, -EPERM}, {2, TOKEN_SCOPE_READ, -EACCES}, {3, TOKEN_SCOPE_READ, -EACCES},
                {4, TOKEN_SCOPE_READ, -EACCES}, {5, TOKEN_SCOPE_READ, -EACCES}, {6, TOKEN_SCOPE_READ, -EACCES},
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                const char *h[] = {hw, hr, hold, hgone, wrong, NULL, w};
                _cleanup_(token_done) Token t = {};

                print_message("case %zu\n", i);
                assert_int_equal(admin_token_check(f->server.storage, h[cases[i].which], cases[i].scope,
                                                   now_realtime(), &t, &err),
                                 cases[i].result);
                /* No message ever holds the token. */
                assert_null(strstr(err.message, w));
                assert_null(strstr(err.message, r));
        }

        /* The database has the hash and the last use, never the token. */
        assert_int_equal(storage_token_list(f->server.storage, &list, &n, &err), 0);
        assert_int_equal(n, 4);
        assert_string_equal(list[0].name, "shop");
        assert_int_equal(list[0].scope, TOKEN_SCOPE_WRITE);
        assert_true(list[0].last_used != TIME_UNSET);
        assert_int_equal(strlen(list[0].hash), 64);
        assert_null(strstr(list[0].hash, w + 4));
        assert_true(list[3].revoked != TIME_UNSET);
        token_array_free(list, n);
}

/* One admin call through server_admin(), as server-http.c makes it. */
static void admin_call(Fixture *f, const char *method, const char *path, const char *auth, json_object *in,
                       unsigned status, Reply *reply) {
        char param[ROUTE_PARAM_MAX + 1];
        bool known;
        const Route *route = route_find(method, path, ROUTES_ADMIN, param, &known);

        assert_non_null(route);
        reply_done(reply);
        *reply = (Reply){};
        if (!in)
                in = json_object_new_object();
        assert_int_equal(server_admin(&f->server, route, param, auth, in, reply), 0);
        json_object_put(in);
        print_message("%s %s: %u %s\n", method, path, reply->status, reply->note);
        assert_int_equal(reply->status, status);
}

static json_object *parse(const char *text) {
        json_object *o = json_tokener_parse(text);
        assert_non_null(o);
        return o;
}

static void test_admin_api(void **state) {
        Fixture *f = *state;
        _cleanup_free_ char *w = make_token(f, "shop", TOKEN_SCOPE_WRITE, TIME_UNSET),
                            *r = make_token(f, "crm", TOKEN_SCOPE_READ, TIME_UNSET);
        _cleanup_free_ char *hw = bearer(w), *hr = bearer(r), *path = NULL, *cursor = NULL;
        _cleanup_(reply_done) Reply reply = {};
        json_object *list;
        char key[LICENSE_KEY_STRING_SIZE];

        /* Tokens: none, read for a write, unknown. */
        admin_call(f, "GET", "/v1/admin/products", NULL, NULL, 401, &reply);
        assert_true(reply.challenge);
        assert_string_equal(error_code(&reply), "unauthorized");
        admin_call(f, "POST", "/v1/admin/entitlements", hr, parse("{\"product\": \"" PRODUCT "\"}"), 403, &reply);
        assert_string_equal(error_code(&reply), "forbidden");
        admin_call(f, "GET", "/v1/admin/keys", "Bearer lsd_nope", NULL, 401, &reply);

        /* Create: checked as 'licensed-vendor entitlement create' checks. */
        admin_call(f, "POST", "/v1/admin/entitlements", hw, parse("{\"product\": \"" PRODUCT "\"}"), 400, &reply);
        assert_string_equal(error_message(&reply), "a licensee is required");
        admin_call(f, "POST", "/v1/admin/entitlements", hw,
                   parse("{\"product\": \"" PRODUCT "\", \"licensee\": \"x\", \"seat\": 2}"), 400, &reply);
        assert_string_equal(error_message(&reply), "unknown member \"seat\"");
        admin_call(f, "POST", "/v1/admin/entitlements", hw,
                   parse("{\"product\": \"" PRODUCT "\", \"licensee\": \"x\", \"seats\": 0}"), 400, &reply);
        admin_call(f, "POST", "/v1/admin/entitlements", hw,
                   parse("{\"product\": \"" PRODUCT "\", \"licensee\": \"Müller GmbH\", \"seats\": 3, "
                         "\"features\": [\"reports:limit=5\"], \"properties\": {\"tier\": \"gold\"}}"),
                   201, &reply);
        assert_string_equal(member(&reply, "licensee"), "Müller GmbH");
        assert_int_equal(json_object_get_int(json_object_object_get(reply.body, "seats")), 3);
        assert_true(startswith(reply.note, "token 'shop'"));
        snprintf(key, sizeof(key), "%s", member(&reply, "license_key"));
        admin_call(f, "POST", "/v1/admin/entitlements", hw,
                   parse("{\"product\": \"com.example.other\", \"licensee\": \"Other\"}"), 201, &reply);

        /* List: filters and pages. */
        admin_call(f, "GET", "/v1/admin/entitlements", hr, parse("{\"licensee\": \"ller\"}"), 200, &reply);
        list = json_object_object_get(reply.body, "entitlements");
        assert_int_equal(json_object_array_length(list), 1);
        admin_call(f, "GET", "/v1/admin/entitlements", hr, parse("{\"product\": \"" PRODUCT "\"}"), 200, &reply);
        assert_int_equal(json_object_array_length(json_object_object_get(reply.body, "entitlements")), 2);
        admin_call(f, "GET", "/v1/admin/entitlements", hr, parse("{\"state\": \"gone\"}"), 400, &reply);
        admin_call(f, "GET", "/v1/admin/entitlements", hr, parse("{\"limit\": \"2\"}"), 200, &reply);
        assert_int_equal(json_object_array_length(json_object_object_get(reply.body, "entitlements")), 2);
        cursor = strdup(member(&reply, "next_cursor"));
        assert_non_null(cursor);
        {
                json_object *in = json_object_new_object();
                json_object_object_add(in, "limit", json_object_new_string("2"));
                json_object_object_add(in, "cursor", json_object_new_string(cursor));
                admin_call(f, "GET", "/v1/admin/entitlements", hr, in, 200, &reply);
        }
        assert_int_equal(json_object_array_length(json_object_object_get(reply.body, "entitlements")), 1);
        assert_null(json_object_object_get(reply.body, "next_cursor"));
        admin_call(f, "GET", "/v1/admin/entitlements", hr, parse("{\"cursor\": \"bm9wZQ==\"}"), 400, &reply);

        /* Show, upgrade, revoke. */
        assert_true(asprintf(&path, "/v1/admin/entitlements/%s", key) > 0);
        admin_call(f, "GET", path, hr, NULL, 200, &reply);
        assert_string_equal(member(&reply, "license_key"), key);
        admin_call(f, "GET", "/v1/admin/entitlements/AKKMR-E631E-MTNVW-0ZB05-JGQ22", hr, NULL, 404, &reply);
        admin_call(f, "GET", "/v1/admin/entitlements/nonsense", hr, NULL, 400, &reply);
        free(path);
        assert_true(asprintf(&path, "/v1/admin/entitlements/%s/upgrade", key) > 0);
        admin_call(f, "POST", path, hw, parse("{}"), 400, &reply);
        admin_call(f, "POST", path, hw, parse("{\"revision\": 7, \"seats\": 4}"), 409, &reply);
        assert_string_equal(error_code(&reply), "conflict");
        admin_call(f, "POST", path, hw, parse("{\"revision\": 1, \"seats\": 4, \"features\": [\"reports:limit=9\"]}"),
                   200, &reply);
        assert_int_equal(json_object_get_int(json_object_object_get(reply.body, "revision")), 2);
        assert_int_equal(json_object_array_length(json_object_object_get(reply.body, "features")), 1);
        admin_call(f, "POST", path, hw, parse("{\"remove_features\": [\"nope\"]}"), 404, &reply);
        free(path);
        assert_true(asprintf(&path, "/v1/admin/entitlements/%s/revoke", key) > 0);
        admin_call(f, "POST", path, hr, NULL, 403, &reply);
        admin_call(f, "POST", path, hw, NULL, 200, &reply);
        assert_true(json_object_get_boolean(json_object_object_get(reply.body, "revoked")));
        admin_call(f, "GET", "/v1/admin/entitlements", hr, parse("{\"state\": \"revoked\"}"), 200, &reply);
        assert_int_equal(json_object_array_length(json_object_object_get(reply.body, "entitlements")), 1);

        /* Products and keys. */
        admin_call(f, "GET", "/v1/admin/products", hr, NULL, 200, &reply);
        list = json_object_object_get(reply.body, "products");
        assert_int_equal(json_object_array_length(list), 2);
        assert_string_equal(json_object_get_string(json_object_object_get(json_object_array_get_idx(list, 0), "product")),
                            PRODUCT);
        admin_call(f, "GET", "/v1/admin/keys", hr, NULL, 200, &reply);
        assert_int_equal(strlen(json_object_get_string(json_object_object_get(
                                 json_object_array_get_idx(json_object_object_get(reply.body, "keys"), 0), "key_id"))),
                         16);
}

/* Release: by machine id, and by the machine's offline deactivation proof. */
static void test_admin_release(void **state) {
        Fixture *f = *state;
        _cleanup_free_ char *w = make_token(f, "shop", TOKEN_SCOPE_WRITE, TIME_UNSET);
        _cleanup_free_ char *hw = bearer(w), *path = NULL, *license_id = NULL;
        _cleanup_(reply_done) Reply reply = {};
        const char *machine_id = "0123456789abcdef0123456789abcdef";
        json_object *in;

        call(f, api_activate, signed_body(f, MACHINE_REQUEST_ACTIVATION, "request", PRODUCT, machine_id, f->key), 200,
             &reply);
        license_id = strdup(member(&reply, "license_id"));
        assert_true(asprintf(&path, "/v1/admin/entitlements/%s/release", f->key) > 0);
        admin_call(f, "POST", path, hw, parse("{}"), 400, &reply);
        admin_call(f, "POST", path, hw, parse("{\"machine_id\": \"ffffffffffffffffffffffffffffffff\"}"), 404, &reply);
        admin_call(f, "POST", path, hw, signed_body(f, MACHINE_REQUEST_DEACTIVATION, "proof", PRODUCT, machine_id,
                                                     license_id),
                   200, &reply);
        assert_string_equal(member(&reply, "machine_id"), machine_id);
        /* the seat is free: activate again, then release by machine id */
        call(f, api_activate, signed_body(f, MACHINE_REQUEST_ACTIVATION, "request", PRODUCT, machine_id, f->key), 200,
             &reply);
        in = json_object_new_object();
        json_object_object_add(in, "machine_id", json_object_new_string(machine_id));
        admin_call(f, "POST", path, hw, in, 200, &reply);
        assert_int_equal(json_object_get_int(json_object_object_get(reply.body, "released")), 1);
        /* a proof for a license of another key */
        free(path);
        create_entitlement(f, "AKKMR-E631E-MTNVW-0ZB05-JGQ22", 1);
        path = strdup("/v1/admin/entitlements/AKKMR-E631E-MTNVW-0ZB05-JGQ22/release");
        admin_call(f, "POST", path, hw, signed_body(f, MACHINE_REQUEST_DEACTIVATION, "proof", PRODUCT, machine_id,
                                                     license_id),
                   404, &reply);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_routes),
                cmocka_unit_test(test_route_params),
                cmocka_unit_test(test_allow),
                cmocka_unit_test(test_openapi_matches_routes),
                cmocka_unit_test(test_content_type),
                cmocka_unit_test(test_storage_answers),
                cmocka_unit_test_setup_teardown(test_health, setup, teardown),
                cmocka_unit_test_setup_teardown(test_bad_bodies, setup, teardown),
                cmocka_unit_test_setup_teardown(test_activate_and_deactivate, setup, teardown),
                cmocka_unit_test_setup_teardown(test_revoked, setup, teardown),
                cmocka_unit_test_setup_teardown(test_tokens, setup, teardown),
                cmocka_unit_test_setup_teardown(test_admin_api, setup, teardown),
                cmocka_unit_test_setup_teardown(test_admin_release, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
