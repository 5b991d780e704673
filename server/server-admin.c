/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The admin API of licensed-server (docs/protocol.md, "Admin API"): the
 * bearer token first (admin-token.h), then the operation on the database
 * (admin-ops.h), whose errno becomes the HTTP status. Every call is logged
 * with the token's name, never the token. */

#include <stdio.h>

#include "admin-token.h"
#include "key-file.h"
#include "server.h"
#include "timeutil.h"

/* How an operation's failure reaches the client. */
static const struct {
        int error;
        unsigned status;
        const char *code;
} admin_errors[] = {
        {EINVAL, 400, "bad-request"},
        {EKEYREJECTED, 400, "invalid-signature"},
        {ENOENT, 404, "not-found"},
        {EEXIST, 409, "exists"},
        {ESTALE, 409, "conflict"},
        {EALREADY, 409, "proof-used"},
        {EPERM, 403, "maintenance-expired"}, /* a deactivation proof, maintenance over */
};

static int reply_admin_error(Reply *reply, int r, const CoreError *err) {
        for (size_t i = 0; i < ELEMENTSOF(admin_errors); i++)
                if (admin_errors[i].error == -r)
                        return reply_error(reply, admin_errors[i].status, admin_errors[i].code, "%s",
                                           core_error_message(err, r));
        /* The details are for the vendor's log, not for the client. */
        server_log("admin API: %s", core_error_message(err, r));
        return reply_error(reply, 500, "internal", "the server could not do it; try again later");
}

/* Checks the token: 0, or negative after filling in the reply. */
static int authorize(Server *s, const Route *route, const char *authorization, Token *ret, Reply *reply) {
        TokenScope scope = route->access == ROUTE_ADMIN_WRITE ? TOKEN_SCOPE_WRITE : TOKEN_SCOPE_READ;
        CoreError err = {};
        int r;

        r = admin_token_check(s->storage, authorization, scope, now_realtime(), ret, &err);
        if (r == -EACCES || r == -EPERM)
                /* An operator alerts on these (journal.md): someone holds a
                 * token that is wrong, expired, revoked or too weak. */
                server_event(SERVER_EVENT_TOKEN_REFUSED, LOG_WARNING,
                             &(ServerEventFields){.token_name = r == -EPERM ? ret->name : NULL},
                             "admin token refused: %s", err.message);
        if (r == -EACCES) {
                reply_error(reply, 401, "unauthorized", "%s", err.message);
                reply->challenge = true;
        } else if (r == -EPERM) {
                reply_error(reply, 403, "forbidden", "%s; %s %s needs a write token", err.message, route->method,
                            route->path);
        } else if (r < 0)
                reply_admin_error(reply, r, &err);
        return r;
}

int server_admin(Server *s, const Route *route, const char *key, const char *authorization, json_object *in,
                 Reply *reply) {
        _cleanup_(token_done) Token token = {};
        json_object *answer = NULL;
        char note[sizeof(reply->note)];
        CoreError err = {};
        int r;

        if (authorize(s, route, authorization, &token, reply) < 0)
                return 0;
        if (route->admin) {
                r = route->admin(s->storage, key[0] ? key : NULL, in, &answer, &err);
                if (r < 0)
                        reply_admin_error(reply, r, &err);
                else {
                        if (route->event)
                                route->event(answer, token.name);
                        reply_done(reply);
                        reply->status = route->status ?: 200;
                        reply->body = answer;
                }
        } else
                route->api(s, in, reply);
        /* The note is cut to fit after the name; the name is at most 128 bytes. */
        snprintf(note, sizeof(note), "token '%.128s'%s%.600s", token.name, reply->note[0] ? ": " : "", reply->note);
        memcpy(reply->note, note, sizeof(note));
        return 0;
}

/* A member of an operation's answer, or NULL. */
static const char *answer_string(json_object *answer, const char *name) {
        json_object *v;

        return json_object_object_get_ex(answer, name, &v) && json_object_is_type(v, json_type_string)
                       ? json_object_get_string(v)
                       : NULL;
}

/* A support case: the vendor let a machine have its trial again. Who did
 * (the token's name) and for which machine, for an audit. */
void admin_event_trial_reset(json_object *answer, const char *token_name) {
        const char *product = answer_string(answer, "product"), *machine_id = answer_string(answer, "machine_id"),
                   *hardware_id = answer_string(answer, "hardware_id");
        json_object *trials = NULL;

        json_object_object_get_ex(answer, "trials", &trials);
        server_event(SERVER_EVENT_TRIAL_RESET, LOG_NOTICE,
                     &(ServerEventFields){.product = product, .machine_id = machine_id, .hardware_id = hardware_id,
                                          .token_name = token_name},
                     "token '%s' reset the trial of %s on machine id %s, hardware id %s (%d trial%s forgotten): "
                     "it can start a new trial",
                     token_name ?: "?", product ?: "?", machine_id ?: "(not given)", hardware_id ?: "(not given)",
                     json_object_get_int(trials), json_object_get_int(trials) == 1 ? "" : "s");
}

/* GET /v1/admin/keys */
int api_admin_keys(Server *s, json_object *body, Reply *reply) {
        _cleanup_free_ char *public_key = NULL;
        char key_id[KEY_ID_STRING_SIZE];
        json_object *o, *keys, *k;
        int r;

        json_object_object_foreach(body, name, value) {
                (void) value;
                return reply_error(reply, 400, "bad-request", "unknown member \"%s\"", name);
        }
        r = key_id_from_key(s->signing_key, key_id);
        if (r >= 0)
                r = ed25519_public_base64(s->signing_key, &public_key);
        if (r < 0)
                return reply_admin_error(reply, r, NULL);
        k = json_object_new_object();
        json_object_object_add(k, "key_id", json_object_new_string(key_id));
        json_object_object_add(k, "algorithm", json_object_new_string("ed25519"));
        json_object_object_add(k, "public_key", json_object_new_string(public_key));
        keys = json_object_new_array();
        json_object_array_add(keys, k);
        o = json_object_new_object();
        json_object_object_add(o, "keys", keys);
        reply_done(reply);
        reply->status = 200;
        reply->body = o;
        return 0;
}

/* GET /v1/openapi.json */
int api_openapi(Server *s, json_object *body, Reply *reply) {
        json_object *doc = json_tokener_parse(openapi_json);

        if (!doc)
                return reply_error(reply, 500, "internal", "the built-in OpenAPI document does not parse");
        reply_done(reply);
        reply->status = 200;
        reply->body = doc;
        return 0;
}
