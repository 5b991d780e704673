/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The portal's routes (docs/portal.md), called by server-http.c for a
 * route of the table marked .portal, with the whole body read:
 *
 *   GET  /portal               the entitlement's page, or the sign-in page
 *   POST /portal/sign-in       key -> a session cookie, or a sentence
 *   POST /portal/sign-out
 *   POST /portal/release       license_id -> the machine's seat freed
 *   GET  /portal/license/{id}  the current license of a machine, signed
 *
 * Every POST carries the session's CSRF token (the sign-in form: the token
 * of its own cookie) and is refused with 403 without it. A license id of
 * another key is "not found", as one of no key. A POST that succeeds
 * answers 303 to GET /portal, which shows what happened (once). */

#include <arpa/inet.h>
#include <assert.h>
#include <inttypes.h>
#include <microhttpd.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>

#include "portal.h"
#include "server.h"
#include "timeutil.h"

typedef struct PortalReply {
        unsigned status;
        char *body;
        size_t len;
        const char *content_type; /* NULL: text/html */
        char cookies[2][160];
        char disposition[128];
        const char *location;
        const char *allow; /* of a 405 */
        unsigned retry_after;
        char note[256]; /* for the log line */
} PortalReply;

static void portal_reply_done(PortalReply *r) {
        free(r->body);
}

/* What a handler sees of the request. */
typedef struct PortalRequest {
        Server *server;
        Portal *portal;
        struct MHD_Connection *connection;
        const char *param; /* the {key} of the path */
        const char *body;
        size_t len;
        bool tls;
        uint64_t now_usec;
} PortalRequest;

/* A page written by fn into the reply's body. */
#define RENDER(reply, status_, fn, ...)                                                                     \
        ({                                                                                                  \
                FILE *_f_ = open_memstream(&(reply)->body, &(reply)->len);                                  \
                if (_f_) {                                                                                  \
                        fn(__VA_ARGS__);                                                                    \
                        fclose(_f_);                                                                        \
                }                                                                                           \
                (reply)->status = _f_ ? (status_) : 500;                                                    \
        })

static void add_cookie(const PortalRequest *rq, PortalReply *reply, const char *name, const char *value) {
        size_t i = reply->cookies[0][0] ? 1 : 0;

        /* An empty value deletes the cookie. */
        snprintf(reply->cookies[i], sizeof(reply->cookies[i]), "%s=%s; Path=/portal; HttpOnly; SameSite=Strict%s%s",
                 name, value, rq->tls ? "; Secure" : "", *value ? "" : "; Max-Age=0");
}

static const char *cookie(const PortalRequest *rq, const char *name) {
        return MHD_lookup_connection_value(rq->connection, MHD_COOKIE_KIND, name);
}

static void note(PortalReply *reply, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note(PortalReply *reply, const char *fmt, ...) {
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(reply->note, sizeof(reply->note), fmt, ap);
        va_end(ap);
}

/* The sign-in page with its own CSRF token, in a cookie and in the form. */
static void sign_in_page(const PortalRequest *rq, PortalReply *reply, unsigned status, const char *error) {
        char token[PORTAL_TOKEN_SIZE];

        if (portal_random_token(token) < 0) {
                reply->status = 500;
                return;
        }
        add_cookie(rq, reply, PORTAL_SIGN_IN_COOKIE, token);
        RENDER(reply, status, portal_page_sign_in, rq->portal, _f_, token, error);
}

static void message_page(const PortalRequest *rq, PortalReply *reply, unsigned status, const char *title,
                         const char *message) {
        RENDER(reply, status, portal_page_message, rq->portal, _f_, title, message);
        note(reply, "%s", message);
}

static void redirect_home(PortalReply *reply) {
        reply->status = 303;
        reply->location = "/portal";
}

static bool tokens_equal(const char *a, const char *b) {
        return a && b && strlen(a) == PORTAL_TOKEN_SIZE - 1 && strlen(b) == PORTAL_TOKEN_SIZE - 1 &&
               CRYPTO_memcmp(a, b, PORTAL_TOKEN_SIZE - 1) == 0;
}

/* The request's session: 0, or negative after answering with the sign-in
 * page and the reason (401). */
static int require_session(const PortalRequest *rq, PortalReply *reply, PortalSession *ret) {
        const char *id = cookie(rq, PORTAL_COOKIE);
        char sentence[160];
        int r;

        r = id ? portal_session_use(&rq->portal->sessions, id, rq->now_usec, ret) : -ENOENT;
        if (r >= 0)
                return 0;
        if (r == -ETIMEDOUT) {
                unsigned idle = rq->portal->options.idle_sec, minutes = idle / 60;

                if (idle % 60 == 0)
                        snprintf(sentence, sizeof(sentence),
                                 "You were signed out after %u minute%s without activity. Sign in again.", minutes,
                                 minutes == 1 ? "" : "s");
                else
                        snprintf(sentence, sizeof(sentence),
                                 "You were signed out after %u second%s without activity. Sign in again.", idle,
                                 idle == 1 ? "" : "s");
        }
        else
                snprintf(sentence, sizeof(sentence), "%s",
                         id ? "Your session has ended (signed out, or the server was restarted). Sign in again."
                            : "Sign in with your license key first.");
        if (id)
                add_cookie(rq, reply, PORTAL_COOKIE, "");
        sign_in_page(rq, reply, 401, sentence);
        note(reply, "no session: %s", r == -ETIMEDOUT ? "idle too long" : id ? "unknown session" : "no cookie");
        return r;
}

/* The form's CSRF token must be the session's: 0, or -EPERM after the 403. */
static int require_csrf(const PortalRequest *rq, PortalReply *reply, const char *expected) {
        _cleanup_free_ char *csrf = NULL;

        if (portal_form_get(rq->body, rq->len, "csrf", &csrf) >= 0 && tokens_equal(csrf, expected))
                return 0;
        message_page(rq, reply, 403, "This form cannot be used",
                     "The form was not sent from this portal's page, or the page is too old. Go back to the "
                     "portal, reload the page and try again.");
        note(reply, "%s CSRF token", csrf ? "wrong" : "no");
        return -EPERM;
}

/* A database failure as a sentence; the details go to the log. */
static void database_page(const PortalRequest *rq, PortalReply *reply, const char *what, int r,
                          const CoreError *err) {
        server_log_at(LOG_ERR, "portal: %s: %s", what, core_error_message(err, r));
        message_page(rq, reply, storage_error_is_transient(r) ? 503 : 500, "Something went wrong",
                     "The portal cannot reach its database right now. Try again in a minute.");
        if (storage_error_is_transient(r))
                reply->retry_after = 30;
}

/* GET /portal --------------------------------------------------------------- */

static void portal_home(const PortalRequest *rq, PortalReply *reply) {
        _cleanup_(entitlement_done) Entitlement e = ENTITLEMENT_INIT;
        PortalSession session;
        Activation *a = NULL;
        size_t n = 0;
        int64_t now = now_realtime(), oldest = 0;
        unsigned used = 0;
        CoreError err = {};
        int r;

        if (!cookie(rq, PORTAL_COOKIE)) {
                sign_in_page(rq, reply, 200, NULL);
                note(reply, "the sign-in page");
                return;
        }
        if (require_session(rq, reply, &session) < 0) {
                reply->status = reply->status == 401 ? 200 : reply->status;
                return;
        }
        r = storage_entitlement_get(rq->server->storage, session.key, &e, &err);
        if (r >= 0)
                r = storage_activation_list(rq->server->storage, session.key, &a, &n, &err);
        /* How much of the release limit is used, counted as a release counts. */
        if (r >= 0 && rq->portal->options.release_limit > 0)
                r = storage_portal_releases(rq->server->storage, session.key, now - PORTAL_RELEASE_WINDOW_SEC,
                                            &used, &oldest, &err);
        if (r == -ENOENT) {
                /* The vendor deleted the key meanwhile. */
                portal_session_remove(&rq->portal->sessions, session.id);
                add_cookie(rq, reply, PORTAL_COOKIE, "");
                sign_in_page(rq, reply, 200, "This license key is not known any more. Contact the vendor.");
        } else if (r < 0)
                database_page(rq, reply, "read the entitlement", r, &err);
        else {
                RENDER(reply, 200, portal_page_entitlement, rq->portal, _f_, &session, &e, a, n, used, oldest,
                       NULL, now);
                note(reply, "the entitlement's page, %zu machines", n);
        }
        activation_array_free(a, n);
        OPENSSL_cleanse(&session, sizeof(session));
}

/* POST /portal/sign-in -------------------------------------------------------- */

static void sign_in(const PortalRequest *rq, PortalReply *reply) {
        const union MHD_ConnectionInfo *ci = MHD_get_connection_info(rq->connection, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
        _cleanup_(entitlement_done) Entitlement e = ENTITLEMENT_INIT;
        _cleanup_free_ char *key = NULL, *csrf = NULL;
        char canonical[LICENSE_KEY_STRING_SIZE], masked[LICENSE_KEY_STRING_SIZE], sentence[700];
        unsigned retry_after = 1;
        PortalSession session;
        CoreError err = {};
        bool bad_form;
        int r;

        /* Every attempt counts, before anything is checked: each is a guess. */
        if (!ratelimit_take(rq->portal->sign_in, ci ? ci->client_addr : NULL, rq->now_usec, &retry_after)) {
                snprintf(sentence, sizeof(sentence),
                         "Too many sign-in attempts from your address. Try again in %u seconds.", retry_after);
                sign_in_page(rq, reply, 429, sentence);
                reply->retry_after = retry_after;
                note(reply, "sign-in attempts over the limit");
                return;
        }
        r = portal_form_get(rq->body, rq->len, "csrf", &csrf);
        if (r < 0 || !tokens_equal(csrf, cookie(rq, PORTAL_SIGN_IN_COOKIE))) {
                sign_in_page(rq, reply, 403,
                             "The sign-in form had expired or was not sent from this page. Enter your key again.");
                note(reply, "sign-in: %s CSRF token", csrf ? "wrong" : "no");
                return;
        }
        r = portal_form_get(rq->body, rq->len, "key", &key);
        bad_form = r == -EINVAL;
        if (r >= 0)
                r = license_key_normalize(key, canonical, &err);
        if (r < 0) {
                snprintf(sentence, sizeof(sentence),
                         "That is not a license key: %s. A key is five groups of five letters and digits.",
                         key        ? core_error_message(&err, r)
                         : bad_form ? "it is not valid in a form (a bad %-escape or a NUL character)"
                                    : "the form had no key");
                sign_in_page(rq, reply, 400, sentence);
                note(reply, "sign-in: malformed key");
                return;
        }
        license_key_mask(canonical, masked);
        r = storage_entitlement_get(rq->server->storage, canonical, &e, &err);
        /* The database found the row by its key; compare again in constant
         * time, so that no code path of ours compares the secret byte by byte. */
        if (r >= 0 && CRYPTO_memcmp(e.key, canonical, LICENSE_KEY_STRING_SIZE - 1) != 0)
                r = -ENOENT;
        if (r == -ENOENT) {
                sign_in_page(rq, reply, 401,
                             "No license has this key. Check it against the e-mail or invoice of your purchase.");
                note(reply, "sign-in: unknown key %s", masked);
                return;
        }
        if (r < 0)
                return database_page(rq, reply, "read the entitlement", r, &err);
        r = portal_session_create(&rq->portal->sessions, canonical, rq->now_usec, &session);
        if (r < 0) {
                message_page(rq, reply, 500, "Something went wrong", "The portal could not sign you in. Try again.");
                return;
        }
        add_cookie(rq, reply, PORTAL_COOKIE, session.id);
        add_cookie(rq, reply, PORTAL_SIGN_IN_COOKIE, "");
        redirect_home(reply);
        note(reply, "signed in with key %s", masked);
        OPENSSL_cleanse(&session, sizeof(session));
        OPENSSL_cleanse(canonical, sizeof(canonical));
}

/* POST /portal/sign-out ------------------------------------------------------ */

static void sign_out(const PortalRequest *rq, PortalReply *reply) {
        PortalSession session;

        if (require_session(rq, reply, &session) < 0 || require_csrf(rq, reply, session.csrf) < 0)
                return;
        portal_session_remove(&rq->portal->sessions, session.id);
        add_cookie(rq, reply, PORTAL_COOKIE, "");
        redirect_home(reply);
        note(reply, "signed out");
        OPENSSL_cleanse(&session, sizeof(session));
}

/* The activation of the session's key that license_id names, or 404 (also
 * for an id of another key: whose it is stays unsaid). 0, or negative after
 * answering. */
static int find_activation(const PortalRequest *rq, PortalReply *reply, const PortalSession *session,
                           const char *license_id, Activation *ret) {
        Activation *a = NULL;
        size_t n = 0;
        CoreError err = {};
        int r;

        r = storage_activation_list(rq->server->storage, session->key, &a, &n, &err);
        if (r < 0) {
                database_page(rq, reply, "list the activations", r, &err);
                return r;
        }
        r = -ENOENT;
        for (size_t i = 0; i < n && r < 0; i++)
                if (license_id && streq(a[i].license_id, license_id)) {
                        *ret = a[i];
                        a[i] = (Activation){};
                        r = 0;
                }
        activation_array_free(a, n);
        if (r < 0)
                message_page(rq, reply, 404, "No such machine",
                             "This license key has no machine with that license. Go back to the portal to see "
                             "its machines.");
        return r;
}

/* POST /portal/release ----------------------------------------------------------- */

static void release(const PortalRequest *rq, PortalReply *reply) {
        _cleanup_(activation_done) Activation a = {};
        _cleanup_free_ char *license_id = NULL;
        char masked[LICENSE_KEY_STRING_SIZE], sentence[400], when[32];
        const char *machine;
        PortalSession session;
        int64_t now = now_realtime(), oldest = 0;
        unsigned n = 0, limit = rq->portal->options.release_limit;
        CoreError err = {};
        int r;

        if (require_session(rq, reply, &session) < 0 || require_csrf(rq, reply, session.csrf) < 0)
                return;
        (void) portal_form_get(rq->body, rq->len, "license_id", &license_id);
        if (find_activation(rq, reply, &session, license_id, &a) < 0)
                return;
        machine = a.hostname ?: a.license_id;
        if (a.released != TIME_UNSET) {
                portal_format_time(a.released, when);
                snprintf(sentence, sizeof(sentence), "The machine %s was released already, on %s.", machine, when);
                return message_page(rq, reply, 409, "Released already", sentence);
        }
        r = storage_portal_release(rq->server->storage,
                                   &(PortalReleaseClaim){.key = session.key,
                                                         .machine_id = a.machine_id,
                                                         .now = now,
                                                         .since = now - PORTAL_RELEASE_WINDOW_SEC,
                                                         .limit = limit},
                                   &n, &oldest, &err);
        if (r == -EDQUOT) {
                portal_format_time(oldest + PORTAL_RELEASE_WINDOW_SEC, when);
                snprintf(sentence, sizeof(sentence),
                         "You have released %u machine%s in the last 30 days, as many as the vendor allows. The "
                         "next release is possible on %s%s.",
                         limit, limit == 1 ? "" : "s", when,
                         rq->portal->options.support ? "; until then, contact support" : "");
                return message_page(rq, reply, 409, "No release possible now", sentence);
        }
        if (r == -ENOENT) {
                snprintf(sentence, sizeof(sentence), "The machine %s holds no seat any more.", machine);
                return message_page(rq, reply, 409, "Released already", sentence);
        }
        if (r < 0)
                return database_page(rq, reply, "release the machine", r, &err);

        license_key_mask(session.key, masked);
        server_event(SERVER_EVENT_PORTAL_RELEASE, LOG_NOTICE,
                     &(ServerEventFields){.license_id = a.license_id, .license_key = masked, .machine_id = a.machine_id},
                     "the customer of key %s released machine %s (license %s) in the portal", masked, a.machine_id,
                     a.license_id);
        snprintf(sentence, sizeof(sentence),
                 "The machine %s was released: its seat is free, so the key can be activated on another machine.",
                 machine);
        portal_session_notice(&rq->portal->sessions, session.id, sentence);
        redirect_home(reply);
        note(reply, "key %s: released machine %s, %u seat%s", masked, a.machine_id, n, n == 1 ? "" : "s");
        OPENSSL_cleanse(&session, sizeof(session));
}

/* GET /portal/license/{id} --------------------------------------------------------- */

static void download(const PortalRequest *rq, PortalReply *reply) {
        _cleanup_(entitlement_done) Entitlement e = ENTITLEMENT_INIT;
        _cleanup_(activation_done) Activation a = {};
        char *text = NULL;
        PortalSession session;
        CoreError err = {};
        int r;

        if (require_session(rq, reply, &session) < 0)
                return;
        r = find_activation(rq, reply, &session, rq->param, &a);
        OPENSSL_cleanse(&session, sizeof(session));
        if (r < 0)
                return;
        if (a.released != TIME_UNSET)
                return message_page(rq, reply, 404, "No license",
                                    "This machine was released: it has no license any more. Activate the key on it "
                                    "again to get one.");
        r = storage_entitlement_get(rq->server->storage, a.key, &e, &err);
        if (r < 0)
                return database_page(rq, reply, "read the entitlement", r, &err);
        /* What the server would send the machine now: for a revoked key,
         * an activation is refused and a validation answers "revoked". */
        if (e.revoked)
                return message_page(rq, reply, 403, "No license",
                                    "The vendor revoked this license key: its machines have no license to "
                                    "download any more. Contact the vendor.");
        r = sign_license(rq->server, &e, &a, a.nonce, &text);
        if (r < 0)
                return message_page(rq, reply, 500, "Something went wrong", "The license could not be signed. Try again.");
        reply->status = 200;
        reply->body = text;
        reply->len = strlen(text);
        reply->content_type = "application/octet-stream";
        snprintf(reply->disposition, sizeof(reply->disposition), "attachment; filename=\"%s.lic\"", a.license_id);
        note(reply, "license %s revision %" PRIu32 " downloaded", a.license_id, e.license.revision);
}

/* The connection ------------------------------------------------------------------ */

static enum MHD_Result send_portal_reply(const PortalRequest *rq, PortalReply *reply) {
        struct MHD_Response *resp;
        enum MHD_Result ret;

        resp = MHD_create_response_from_buffer(reply->len, reply->body ?: (char *) "", MHD_RESPMEM_MUST_COPY);
        if (!resp)
                return MHD_NO;
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, reply->content_type ?: "text/html; charset=utf-8");
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
        MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
        MHD_add_response_header(resp, "Content-Security-Policy", rq->portal->csp);
        MHD_add_response_header(resp, "X-Frame-Options", "DENY");
        MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
        for (size_t i = 0; i < ELEMENTSOF(reply->cookies); i++)
                if (reply->cookies[i][0])
                        MHD_add_response_header(resp, MHD_HTTP_HEADER_SET_COOKIE, reply->cookies[i]);
        if (reply->location)
                MHD_add_response_header(resp, MHD_HTTP_HEADER_LOCATION, reply->location);
        if (reply->allow)
                MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, reply->allow);
        if (reply->disposition[0])
                MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_DISPOSITION, reply->disposition);
        if (reply->retry_after > 0) {
                char seconds[16];

                snprintf(seconds, sizeof(seconds), "%u", reply->retry_after);
                MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, seconds);
        }
        ret = MHD_queue_response(rq->connection, reply->status, resp);
        MHD_destroy_response(resp);
        return ret;
}

bool portal_path(const char *url) {
        return url && strncmp(url, "/portal", 7) == 0 && (url[7] == 0 || url[7] == '/');
}

/* A refusal known from the headers (Request.early), as a page for a person:
 * also a path under /portal that is none of the portal's (404), or one
 * asked with a method it does not answer (405). */
static void refusal(const PortalRequest *rq, PortalReply *reply, unsigned status, unsigned retry_after,
                    const char *method, const char *url) {
        const char *title = "This did not work";
        char sentence[160];

        switch (status) {
        case 429:
                snprintf(sentence, sizeof(sentence), "Too many requests from your address. Try again in %u seconds.",
                         retry_after);
                break;
        case 404:
                title = "Page not found";
                snprintf(sentence, sizeof(sentence),
                         "The portal has no page at this address. Check the address, or start again from the "
                         "portal.");
                break;
        case 405:
                title = "This page cannot be used this way";
                /* The method is the client's text: the page escapes it. */
                snprintf(sentence, sizeof(sentence), "This address of the portal does not answer %.20s requests.",
                         method);
                reply->allow = route_allow(url, ROUTES_PUBLIC);
                break;
        default:
                snprintf(sentence, sizeof(sentence), "%s",
                         status == 413 ? "The form was too large." : "The form was not sent by this portal's page.");
        }
        message_page(rq, reply, status, title, sentence);
        reply->retry_after = retry_after;
}

int portal_dispatch(Server *s, struct MHD_Connection *c, const Route *route, const char *param, const char *method,
                    const char *url, const char *body, size_t len, const char *peer, uint64_t start_usec,
                    unsigned refused, unsigned retry_after) {
        PortalRequest rq = {
                .server = s,
                .portal = s->portal,
                .connection = c,
                .param = param,
                .body = body,
                .len = len,
                .tls = s->tls_cert != NULL,
                .now_usec = server_now_usec(),
        };
        _cleanup_(portal_reply_done) PortalReply reply = {};
        int ret;

        assert(route || refused);
        if (refused)
                refusal(&rq, &reply, refused, retry_after, method, url);
        else if (streq(route->path, "/portal"))
                portal_home(&rq, &reply);
        else if (streq(route->path, "/portal/sign-in"))
                sign_in(&rq, &reply);
        else if (streq(route->path, "/portal/sign-out"))
                sign_out(&rq, &reply);
        else if (streq(route->path, "/portal/release"))
                release(&rq, &reply);
        else
                download(&rq, &reply);
        if (!reply.status)
                reply.status = 500;
        server_log_at(reply.status == 429 ? LOG_WARNING : LOG_INFO, "%s %s %s: %u portal: %s", peer, method, url,
                      reply.status, reply.note);
        ret = send_portal_reply(&rq, &reply);
        server_metrics_request(&s->metrics, route_index(route), reply.status, server_now_usec() - start_usec);
        return ret;
}
