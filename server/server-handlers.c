/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The JSON API of licensed-server (docs/protocol.md). Every machine request
 * is one of the signed documents of docs/offline.md, so the server knows
 * the sender holds the device key it names; the database decides the rest.
 * Handler order: parse -> verify -> look up -> mutate -> sign -> reply. */

#include <assert.h>
#include <inttypes.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>

#include "build-info.h"
#include "license-key.h"
#include "receipt.h"
#include "request.h"
#include "server.h"
#include "timeutil.h"

/* What a 503 of the health check tells a load balancer to wait. */
#define HEALTH_RETRY_AFTER_SEC 5

/* Replies ------------------------------------------------------------------ */

void reply_done(Reply *r) {
        json_object_put(r->body);
        r->body = NULL;
}

int reply_error(Reply *r, unsigned status, const char *code, const char *fmt, ...) {
        json_object *e = json_object_new_object(), *root = json_object_new_object();
        char message[512];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(message, sizeof(message), fmt, ap);
        va_end(ap);
        json_object_object_add(e, "code", json_object_new_string(code));
        json_object_object_add(e, "message", json_object_new_string(message));
        json_object_object_add(root, "error", e);
        reply_done(r);
        r->status = status;
        r->retry_after = 0;
        r->body = root;
        snprintf(r->note, sizeof(r->note), "%s: %s", code, message);
        return 0;
}

void reply_ok(Reply *r, json_object *body) {
        reply_done(r);
        r->status = 200;
        r->body = body;
}

/* Seconds a client is asked to wait when the database is unreachable:
 * about a restart of PostgreSQL, or a busy SQLite file. */
#define RETRY_AFTER_SEC 5

int reply_internal(Reply *r, const char *what, int error, const CoreError *err) {
        /* The details are for the vendor's log, not for the client. */
        server_log_at(LOG_ERR, "%s: %s", what, core_error_message(err, error));
        /* The database could not be reached, nothing was written: the same
         * request will do later (docs/protocol.md, "Errors"). */
        if (storage_error_is_transient(error)) {
                reply_error(r, 503, "unavailable",
                            "the server could not %s: its database is unavailable; try again in %u seconds",
                            what, RETRY_AFTER_SEC);
                r->retry_after = RETRY_AFTER_SEC;
                return 0;
        }
        return reply_error(r, 500, "internal", "the server could not %s; try again later", what);
}

/* "Database unreachable" is an event an operator is paged for: one a
 * DATABASE_EVENT_USEC, not one per failed request of an outage. */
#define DATABASE_EVENT_USEC (10 * 1000000ULL)

static void database_failed(Server *s, const char *what, int error, const CoreError *err) {
        uint64_t now = server_now_usec(), last = atomic_load(&s->database_logged_usec);

        server_metrics_count(&s->metrics, COUNTER_DATABASE_ERRORS);
        if (last != 0 && now - last < DATABASE_EVENT_USEC)
                return;
        if (!atomic_compare_exchange_strong(&s->database_logged_usec, &last, now))
                return; /* another thread says it */
        server_event(SERVER_EVENT_DATABASE_UNREACHABLE, LOG_ERR,
                     &(ServerEventFields){.error = core_error_message(err, error)},
                     "the database failed to %s: %s", what, core_error_message(err, error));
}

/* A request the database failed: counted, the event, and a 500 (a 503
 * when the database is only unreachable for now, see reply_internal()). */
int reply_database(Server *s, Reply *r, const char *what, int error, const CoreError *err) {
        database_failed(s, what, error, err);
        return reply_internal(r, what, error, err);
}

/* How each "no" of the database reaches the machine (docs/protocol.md). */
static const struct {
        unsigned status;
        const char *code;
} storage_answers[_STORAGE_RESULT_MAX] = {
        [STORAGE_UNKNOWN_KEY] = {404, "unknown-key"},
        [STORAGE_UNKNOWN_LICENSE] = {404, "unknown-license"},
        [STORAGE_WRONG_PRODUCT] = {403, "wrong-product"},
        [STORAGE_REVOKED] = {403, "revoked"},
        [STORAGE_NO_SEAT] = {409, "seat-limit"},
        [STORAGE_PROOF_USED] = {409, "proof-used"},
        [STORAGE_WRONG_MACHINE] = {403, "wrong-machine"},
        [STORAGE_TRIAL_USED] = {409, "trial-used"},
};

int reply_storage_answer(Reply *r, StorageResult result, const char *message) {
        assert(result > STORAGE_OK && result < _STORAGE_RESULT_MAX);
        return reply_error(r, storage_answers[result].status, storage_answers[result].code, "%s", message);
}

static void add_string(json_object *o, const char *name, const char *value) {
        json_object_object_add(o, name, json_object_new_string(value));
}

/* A machine was told its license (or key) is revoked: it stops, so the
 * vendor may hear from its owner. */
static void revoked_seen(Server *s, const char *license_id, const char *masked_key, const char *product,
                         const char *machine_id) {
        server_metrics_count(&s->metrics, COUNTER_REVOKED);
        server_event(SERVER_EVENT_REVOKED_SEEN, LOG_NOTICE,
                     &(ServerEventFields){.license_id = license_id,
                                          .license_key = masked_key,
                                          .product = product,
                                          .machine_id = machine_id},
                     "machine %s was told that license %s of key %s is revoked", machine_id, license_id,
                     masked_key);
}

/* Requests ---------------------------------------------------------------- */

/* Reads member (a string holding an armored machine document) from the
 * body and verifies it (verify_document()). Returns 0, or negative after
 * filling the reply. */
int read_document(json_object *body, const char *member, MachineRequestType type, MachineRequest *ret,
                         Reply *reply) {
        json_object *v;

        if (!json_object_object_get_ex(body, member, &v) || !json_object_is_type(v, json_type_string)) {
                reply_error(reply, 400, "bad-request",
                            "the body needs \"%s\": a string holding the armored %s", member,
                            machine_request_kind(type));
                return -EINVAL;
        }
        return verify_document(json_object_get_string(v), (size_t) json_object_get_string_len(v), type, ret,
                               reply);
}

int verify_document(const char *text, size_t len, MachineRequestType type, MachineRequest *ret, Reply *reply) {
        CoreError err = {};
        int r;

        r = machine_request_verify(text, len, type, ret, &err);
        if (r == -EKEYREJECTED || r == -ENOKEY) {
                reply_error(reply, 400, "invalid-signature", "%s", core_error_message(&err, r));
                return r;
        }
        if (r < 0) {
                reply_error(reply, 400, "invalid-request", "%s", core_error_message(&err, r));
                return r;
        }
        return 0;
}

/* The license id of the activation of key on one machine: the key's first
 * group (as in the masked key) and 64 bits of SHA-256 over key, machine id
 * and device key. Stable, so the same machine gets the same id back; a
 * valid identifier of 22 characters. */
int license_id_for(const char *key, const char *machine_id, const char *device_key,
                          char out[static LICENSE_ID_MAX + 1]) {
        _cleanup_free_ char *input = NULL;
        unsigned char md[EVP_MAX_MD_SIZE];
        unsigned md_len;
        int n;

        n = asprintf(&input, "%s\n%s\n%s", key, machine_id, device_key);
        if (n < 0)
                return -ENOMEM;
        if (EVP_Digest(input, (size_t) n, md, &md_len, EVP_sha256(), NULL) != 1)
                return -EIO;
        n = snprintf(out, LICENSE_ID_MAX + 1, "%.*s-", LICENSE_KEY_GROUP_LEN, key);
        for (int i = 0; i < 8; i++)
                n += snprintf(out + n, (size_t) (LICENSE_ID_MAX + 1 - n), "%02x", md[i]);
        return 0;
}

static int set_copy(char **dst, const char *v) {
        char *c = strdup(v);
        if (!c)
                return -ENOMEM;
        free(*dst);
        *dst = c;
        return 0;
}

/* Turns the entitlement's unbound template into the license of activation
 * a, answering the request with nonce, and signs it. A trial offer's
 * license ends trial_days after the machine's activation, whenever it is
 * signed again (an upgrade through validation keeps that end). */
int sign_license(Server *s, Entitlement *e, const Activation *a, const char *nonce, char **ret) {
        char masked[LICENSE_KEY_STRING_SIZE];
        License *l = &e->license;
        int r;

        license_key_mask(e->key, masked);
        r = set_copy(&l->id, a->license_id);
        if (r >= 0)
                r = set_copy(&l->key, masked);
        if (r >= 0)
                r = set_copy(&l->machine_id, a->machine_id);
        if (r >= 0)
                r = set_copy(&l->device_key, a->device_key);
        if (r >= 0)
                r = set_copy(&l->nonce, nonce);
        if (r < 0)
                return r;
        l->issued = now_realtime();
        if (e->trial_days > 0) {
                l->type = LICENSE_TRIAL;
                l->not_after = a->activated + (int64_t) e->trial_days * SEC_PER_DAY;
        }
        return license_sign(l, s->signing_key, ret);
}

int reply_license(Server *s, Entitlement *e, const Activation *a, const char *nonce, Reply *reply) {
        _cleanup_free_ char *text = NULL;
        json_object *o;
        int r;

        r = sign_license(s, e, a, nonce, &text);
        if (r < 0) {
                reply_internal(reply, "sign the license", r, NULL);
                return r;
        }
        o = json_object_new_object();
        add_string(o, "license_id", a->license_id);
        add_string(o, "license", text);
        reply_ok(reply, o);
        return 0;
}

/* Finds the activation the license id of a verified machine document
 * names, which must be bound to the machine that signed it. Returns 0, or
 * negative after filling in the reply. */
static int find_activation(Server *s, const MachineRequest *req, Activation *a, Reply *reply) {
        CoreError err = {};
        int r;

        r = storage_activation_get(s->storage, req->license_id, a, &err);
        if (r > STORAGE_OK) {
                reply_storage_answer(reply, r, err.message);
                r = -ENOENT;
        } else if (r < 0)
                reply_database(s, reply, "read the activation", r, &err);
        else if (!streq(a->machine_id, req->machine_id) || !streq(a->device_key, req->device_key)) {
                reply_error(reply, 403, "wrong-machine", "the license %s is bound to another machine",
                            a->license_id);
                r = -EPERM;
        }
        return r;
}

/* Handlers ------------------------------------------------------------------ */

/* POST /v1/activate */
int api_activate(Server *s, json_object *body, Reply *reply) {
        _cleanup_(machine_request_done) MachineRequest req = MACHINE_REQUEST_INIT;

        if (read_document(body, "request", MACHINE_REQUEST_ACTIVATION, &req, reply) < 0)
                return 0;
        return answer_activation(s, &req, reply);
}

int answer_activation(Server *s, const MachineRequest *req, Reply *reply) {
        _cleanup_(entitlement_done) Entitlement e = ENTITLEMENT_INIT;
        _cleanup_(activation_done) Activation a = {};
        char license_id[LICENSE_ID_MAX + 1], masked[LICENSE_KEY_STRING_SIZE];
        CoreError err = {};
        int r;

        assert(req->type == MACHINE_REQUEST_ACTIVATION);
        license_key_mask(req->key, masked);
        r = license_id_for(req->key, req->machine_id, req->device_key, license_id);
        if (r < 0)
                return reply_internal(reply, "derive a license id", r, NULL);

        r = storage_activate(s->storage, &ACTIVATION_CLAIM(req, req->key, license_id), &e, &a, &err);
        if (r < 0)
                return reply_database(s, reply, "store the activation", r, &err);
        if (r == STORAGE_NO_SEAT) {
                server_metrics_count(&s->metrics, COUNTER_SEAT_LIMIT);
                server_event(SERVER_EVENT_SEAT_LIMIT, LOG_WARNING,
                             &(ServerEventFields){.license_key = masked,
                                                  .product = req->product,
                                                  .machine_id = req->machine_id},
                             "key %s: activation of machine %s refused, every seat is taken", masked,
                             req->machine_id);
        } else if (r == STORAGE_REVOKED)
                revoked_seen(s, license_id, masked, req->product, req->machine_id);
        if (r == STORAGE_UNKNOWN_KEY) {
                /* The database's sentence names the key in clear; the
                 * machine hears it masked. */
                char message[sizeof(err.message)];
                snprintf(message, sizeof(message), "the license key %s is not known to this server", masked);
                return reply_storage_answer(reply, r, message);
        }
        if (r > STORAGE_OK)
                return reply_storage_answer(reply, r, err.message);

        if (reply_license(s, &e, &a, req->nonce, reply) < 0)
                return 0;
        snprintf(reply->note, sizeof(reply->note),
                 "key %s, machine %s: license %s revision %" PRIu32 ", %" PRIu32 " of %" PRIu32 " seats",
                 masked, req->machine_id, license_id, e.license.revision, e.active, e.seats);
        server_metrics_count(&s->metrics, COUNTER_ACTIVATIONS);
        server_event(SERVER_EVENT_ACTIVATED, LOG_INFO,
                     &(ServerEventFields){.license_id = license_id,
                                          .license_key = masked,
                                          .product = req->product,
                                          .machine_id = req->machine_id},
                     "license %s of key %s activated on machine %s (%" PRIu32 " of %" PRIu32 " seats)",
                     license_id, masked, req->machine_id, e.active, e.seats);
        return 0;
}

/* POST /v1/validate */
int api_validate(Server *s, json_object *body, Reply *reply) {
        _cleanup_(machine_request_done) MachineRequest req = MACHINE_REQUEST_INIT;

        if (read_document(body, "request", MACHINE_REQUEST_VALIDATION, &req, reply) < 0)
                return 0;
        return answer_validation(s, &req, reply);
}

int answer_validation(Server *s, const MachineRequest *req, Reply *reply) {
        _cleanup_(entitlement_done) Entitlement e = ENTITLEMENT_INIT;
        _cleanup_(activation_done) Activation a = {};
        _cleanup_free_ char *receipt = NULL, *license = NULL;
        ReceiptStatus status;
        CoreError err = {};
        bool revoked;
        json_object *o;
        int r;

        assert(req->type == MACHINE_REQUEST_VALIDATION);
        /* One transaction reads, checks and records the validation: the
         * revision the machine holds after this answer is known before
         * signing (storage_revision_after_validation()). */
        r = storage_validate(s->storage,
                             &(ValidationClaim){
                                     .license_id = req->license_id,
                                     .machine_id = req->machine_id,
                                     .device_key = req->device_key,
                                     .product = req->product,
                                     .revision = req->revision,
                                     .now = now_realtime(),
                             },
                             &a, &e, &err);
        if (r < 0)
                return reply_database(s, reply, "record the validation", r, &err);
        if (r > STORAGE_OK)
                return reply_storage_answer(reply, r, err.message);

        /* A seat the vendor released (a lost machine) no longer licenses the
         * machine that held it: it hears "revoked" like a revoked key. */
        revoked = e.revoked || a.released != TIME_UNSET;
        status = revoked ? RECEIPT_REVOKED : RECEIPT_VALID;
        r = receipt_sign_for_request(req, status, s->signing_key, &receipt);
        if (r < 0)
                return reply_internal(reply, "sign the receipt", r, NULL);

        /* An upgrade reaches the machine here: a higher revision of the same
         * license, bound to the same machine, answering this request. */
        if (storage_revision_after_validation(&e, &a, req->revision) != req->revision) {
                r = sign_license(s, &e, &a, req->nonce, &license);
                if (r < 0)
                        return reply_internal(reply, "sign the license", r, NULL);
        }

        o = json_object_new_object();
        add_string(o, "status", receipt_status_to_string(status));
        add_string(o, "receipt", receipt);
        if (license)
                add_string(o, "license", license);
        reply_ok(reply, o);
        snprintf(reply->note, sizeof(reply->note), "license %s revision %" PRIu32 ": %s%s", a.license_id,
                 req->revision, receipt_status_to_string(status),
                 license ? ", sent the upgraded license" : "");
        server_metrics_count(&s->metrics, COUNTER_VALIDATIONS);
        if (revoked) {
                char masked[LICENSE_KEY_STRING_SIZE];

                license_key_mask(e.key, masked);
                revoked_seen(s, a.license_id, masked, req->product, req->machine_id);
        }
        return 0;
}

/* POST /v1/deactivate */
int api_deactivate(Server *s, json_object *body, Reply *reply) {
        _cleanup_(machine_request_done) MachineRequest req = MACHINE_REQUEST_INIT;

        if (read_document(body, "proof", MACHINE_REQUEST_DEACTIVATION, &req, reply) < 0)
                return 0;
        return answer_deactivation(s, &req, reply);
}

int answer_deactivation(Server *s, const MachineRequest *req, Reply *reply) {
        _cleanup_(activation_done) Activation a = {};
        CoreError err = {};
        json_object *o;
        int r;

        assert(req->type == MACHINE_REQUEST_DEACTIVATION);
        if (find_activation(s, req, &a, reply) < 0)
                return 0;
        r = storage_deactivation_allowed(s->storage, a.key, now_realtime(), &err);
        if (r == -EPERM)
                return reply_error(reply, 403, "maintenance-expired", "%s", err.message);
        if (r < 0)
                return reply_database(s, reply, "read the entitlement", r, &err);
        r = storage_activation_release(s->storage, a.id, req->nonce, now_realtime(), &err);
        if (r < 0)
                return reply_database(s, reply, "release the seat", r, &err);
        if (r > STORAGE_OK)
                return reply_storage_answer(reply, r, err.message);

        o = json_object_new_object();
        add_string(o, "status", "released");
        reply_ok(reply, o);
        snprintf(reply->note, sizeof(reply->note), "license %s, machine %s: seat released", a.license_id,
                 a.machine_id);
        return 0;
}

/* GET /v1/health: readiness, so a load balancer takes a server whose
 * database does not answer out of rotation. The query's time is bounded by
 * the backend (SQLite: its busy timeout). */
int api_health(Server *s, json_object *body, Reply *reply) {
        CoreError err = {};
        json_object *o;
        int r;

        r = storage_ping(s->storage, &err);
        if (r < 0) {
                database_failed(s, "answer the health check", r, &err);
                /* The details went to the log, not to whoever asks. */
                reply_error(reply, 503, "database-unavailable", "the database does not answer; try again later");
                reply->retry_after = HEALTH_RETRY_AFTER_SEC;
                return 0;
        }
        o = json_object_new_object();
        add_string(o, "status", "ok");
        add_string(o, "database", "ok");
        add_string(o, "version", PACKAGE_VERSION);
        reply_ok(reply, o);
        return 0;
}
