/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* licensed-server: the activation and validation server (docs/protocol.md).
 *
 *   server-main.c      options, signals, the context's life
 *   server-http.c      libmicrohttpd: listening, routing, bodies, replies
 *   server-handlers.c  the JSON API: activate, validate, deactivate, health
 *   server-offline.c   the JSON API of the offline page: which document, which answer
 *   server-routes.c    which path and method go where, which bodies are JSON
 *   server-admin.c     the admin API: tokens, then admin-ops.h on the database
 *   server-page.c      the offline web page (activation, validation, deactivation)
 *   server-tls.c       certificate and key for HTTPS, and their reload
 *   server-log.c       the journal or standard error, events (server-log.h)
 *   server-metrics.c   counters and the /metrics listener (server-metrics.h)
 *   server-ratelimit.c token buckets per client address (server-ratelimit.h)
 *   portal-*.c         the customer portal, /portal (portal.h)
 *   storage.h          the database */

#include <json-c/json.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include "admin-ops.h"
#include "crypto.h"
#include "request.h"
#include "server-log.h"
#include "server-metrics.h"
#include "server-ratelimit.h"
#include "storage.h"

/* Largest request body; a machine document is a few KiB. */
#define SERVER_BODY_MAX (64 * 1024)

typedef struct ServerPage {
        char *html;
        char *csp; /* Content-Security-Policy allowing exactly the page's own script and style */
} ServerPage;

/* A listener replaced by a reload, still serving the connections it had. */
typedef struct ServerDrain {
        struct MHD_Daemon *httpd;
        char *tls_cert, *tls_key; /* what it was started with */
        uint64_t deadline_usec;   /* CLOCK_MONOTONIC; stopped then even if busy */
} ServerDrain;

#define SERVER_DRAINS_MAX 4

typedef struct Server Server;

/* The routes a listener answers (Route.access): on the main listener all of
 * them, unless --admin-listen gives the admin routes a listener of their own. */
enum {
        ROUTES_PUBLIC = 1 << 0,
        ROUTES_ADMIN = 1 << 1,
};

/* What a listener's requests see (libmicrohttpd's closure). */
typedef struct ServerListener {
        Server *server;
        unsigned routes; /* ROUTES_* */
} ServerListener;

struct Server {
        Storage *storage;
        EVP_PKEY *signing_key;
        ServerPage page;
        struct MHD_Daemon *httpd;
        ServerMetrics metrics;
        RateLimit *ratelimit; /* NULL: --rate-limit off */
        struct Portal *portal; /* the customer portal (portal.h); NULL: --no-portal */
        ServerDrain drains[SERVER_DRAINS_MAX];
        size_t n_drains;
        _Atomic uint64_t database_logged_usec; /* the last "database unreachable" event */
        ServerListener main_listener;
        /* --admin-listen: the admin routes on a listener of their own */
        struct MHD_Daemon *admin_httpd;
        ServerListener admin_listener;

        /* from the options */
        struct sockaddr_storage listen;
        socklen_t listen_len;
        bool admin_separate; /* --admin-listen given */
        struct sockaddr_storage admin_listen;
        socklen_t admin_listen_len;
        unsigned threads;
        unsigned timeout_sec;
        char *tls_cert; /* PEM text, NULL: plain HTTP */
        char *tls_key;
        const char *tls_cert_path; /* read again on SIGHUP */
        const char *tls_key_path;
};


/* An API answer: HTTP status and a JSON body. */
typedef struct Reply {
        unsigned status;
        json_object *body;
        unsigned retry_after; /* seconds, for a Retry-After header; 0: none */
        bool challenge;       /* a 401: send WWW-Authenticate: Bearer */
        char note[768];       /* what happened, for the log line */
} Reply;

void reply_done(Reply *r);

/* Sets an error reply {"error": {"code": code, "message": ...}}; returns 0. */
int reply_error(Reply *r, unsigned status, const char *code, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));

/* Sets the error reply for a "no" of the database (result > STORAGE_OK):
 * its HTTP status and error code, and message; returns 0. */
int reply_storage_answer(Reply *r, StorageResult result, const char *message);

/* The API, one function per route. body is the parsed JSON object (NULL
 * for GET). They always fill in a reply, errors included, and return 0. */
typedef int (*ApiHandler)(Server *s, json_object *body, Reply *reply);
int api_activate(Server *s, json_object *body, Reply *reply);
int api_validate(Server *s, json_object *body, Reply *reply);
int api_deactivate(Server *s, json_object *body, Reply *reply);
int api_trial(Server *s, json_object *body, Reply *reply);
int api_health(Server *s, json_object *body, Reply *reply);
/* POST /v1/offline (server-offline.c): the offline page's three round
 * trips; says which kind of document was pasted when it is not the one
 * asked for. */
int api_offline(Server *s, json_object *body, Reply *reply);

/* What the API does with a verified machine document of each type (the
 * api_* above after reading it, and api_offline()); fill in the reply. */
int answer_activation(Server *s, const MachineRequest *req, Reply *reply);
int answer_validation(Server *s, const MachineRequest *req, Reply *reply);
int answer_deactivation(Server *s, const MachineRequest *req, Reply *reply);
/* A TRIAL REQUEST: the product's trial offer, once per machine
 * (server-trial.c). */
int answer_trial(Server *s, const MachineRequest *req, Reply *reply);
/* The parts of answering a machine that a trial shares with an
 * activation (server-handlers.c). */
/* Reads member (a string holding an armored machine document of type) from
 * body and verifies it: 0, or negative after filling in the reply. */
int read_document(json_object *body, const char *member, MachineRequestType type, MachineRequest *ret,
                  Reply *reply);
/* What a verified activation or trial request claims of the storage, for
 * the key (a trial's: its offer's) and the license id derived from it. */
#define ACTIVATION_CLAIM(req, k, id)                                                                        \
        (ActivationClaim) {                                                                                 \
                .key = (k), .product = (req)->product, .license_id = (id), .machine_id = (req)->machine_id,  \
                .device_key = (req)->device_key, .hostname = (req)->hostname, .nonce = (req)->nonce,         \
                .now = now_realtime(), .trial = (req)->type == MACHINE_REQUEST_TRIAL,                        \
                .hardware_id = (req)->hardware_id,                                                           \
        }
int license_id_for(const char *key, const char *machine_id, const char *device_key,
                   char out[static LICENSE_ID_MAX + 1]);
int sign_license(Server *s, Entitlement *e, const Activation *a, const char *nonce, char **ret);
/* Signs the license of activation a (sign_license()) and replies 200 with
 * {"license_id", "license"}: 0, or negative after filling in a 500. */
int reply_license(Server *s, Entitlement *e, const Activation *a, const char *nonce, Reply *reply);
int reply_database(Server *s, Reply *r, const char *what, int error, const CoreError *err);
int reply_internal(Reply *r, const char *what, int error, const CoreError *err);
void reply_ok(Reply *r, json_object *body);
/* Verifies an armored machine document of type: 0, or negative after
 * filling in the reply (400 invalid-signature or invalid-request). */
int verify_document(const char *text, size_t len, MachineRequestType type, MachineRequest *ret, Reply *reply);
/* Turns the entitlement's unbound template into the signed license of
 * activation a, answering the request with nonce (server-handlers.c). */
int sign_license(Server *s, Entitlement *e, const Activation *a, const char *nonce, char **ret);
/* GET /v1/openapi.json: docs/openapi.json, built in (openapi-json.c). */
int api_openapi(Server *s, json_object *body, Reply *reply);
extern const char openapi_json[];
/* GET /v1/admin/keys: the signing key's id and public key. */
int api_admin_keys(Server *s, json_object *body, Reply *reply);
/* The journal event of an admin operation that succeeded, from its answer
 * and the name of the token that asked. */
typedef void (*AdminEvent)(json_object *answer, const char *token_name);
/* POST /v1/admin/trials/reset's event (SERVER_EVENT_TRIAL_RESET). */
void admin_event_trial_reset(json_object *answer, const char *token_name);

/* Who may call a route. */
typedef enum RouteAccess {
        ROUTE_PUBLIC,
        ROUTE_ADMIN_READ,  /* an admin token, read or write */
        ROUTE_ADMIN_WRITE, /* a write token */
} RouteAccess;

/* server-routes.c: the routing table and the body rule. */
typedef struct Route {
        const char *method; /* GET also answers HEAD */
        const char *path;   /* a segment "{key}" matches any one segment */
        ApiHandler api;     /* NULL with admin NULL: the offline page */
        AdminOp admin;      /* an admin operation on the database (admin-ops.h) */
        RouteAccess access;
        unsigned status; /* of an admin operation's success: 200, or 201 for a creation */
        bool portal;     /* a page of the customer portal (portal-http.c) */
        AdminEvent event; /* optional: the journal event of an admin operation's success */
} Route;

/* The longest {key} segment a route matches: a license key, typed. */
#define ROUTE_PARAM_MAX 64

/* The route for method on path among those in routes (ROUTES_*), or NULL;
 * the {key} segment of path goes to param (ROUTE_PARAM_MAX + 1 bytes, ""
 * if none); *ret_path_known says whether the path has a route for another
 * method (405, not 404). */
const Route *route_find(const char *method, const char *path, unsigned routes, char *param,
                        bool *ret_path_known);
/* The Allow header of a 405 on path ("GET, HEAD", "POST" or "GET, HEAD,
 * POST"), NULL for no route. */
const char *route_allow(const char *path, unsigned routes);
/* The whole table (*ret_n entries, if ret_n is not NULL): for the test that
 * compares it with docs/openapi.json and for the metrics' labels; a route's
 * index in it. */
const Route *route_table(size_t *ret_n);
size_t route_index(const Route *r);

/* portal-http.c: answers a route of the customer portal (Route.portal)
 * once its body is read; peer is the client's address for the log;
 * refused: the status of an error known from the headers (413, 415, 429
 * with retry_after), answered as a page, or 0; route is NULL for a path
 * under /portal that has none (refused 404, 405, or 429). Returns what
 * MHD_queue_response() did (an enum MHD_Result). */
struct MHD_Connection;
int portal_dispatch(Server *s, struct MHD_Connection *c, const Route *route, const char *param, const char *method,
                    const char *url, const char *body, size_t len, const char *peer, uint64_t start_usec,
                    unsigned refused, unsigned retry_after);

/* server-admin.c: an admin route, from the Authorization header value (may
 * be NULL) to the reply; in is the body (POST) or the query (GET). Logs a
 * refused token; the reply's note names the token that was used. */
int server_admin(Server *s, const Route *route, const char *key, const char *authorization, json_object *in,
                 Reply *reply);
/* Whether a Content-Type value is application/json, optionally with
 * parameters, where a charset must be UTF-8. */
bool content_type_is_json(const char *v);

/* server-page.c */
/* "'sha256-<base64>'" of text, for a CSP source list. */
int server_csp_hash(const char *text, char **ret);
int server_page_init(ServerPage *p);
void server_page_done(ServerPage *p);

/* server-tls.c: reads the PEM files, bounded; refuses a key that group or
 * others may read, and says so if this libmicrohttpd has no TLS. */
int server_tls_load(Server *s, const char *cert_path, const char *key_path, CoreError *err);
/* Reads the same two files again into *ret_cert and *ret_key (SIGHUP). */
int server_tls_reread(const Server *s, char **ret_cert, char **ret_key, CoreError *err);
void server_tls_done(Server *s);
/* Frees a certificate and wipes a key (either NULL). */
void server_tls_free(char *cert, char *key);

/* server-http.c */
int server_http_start(Server *s, CoreError *err);
void server_http_stop(Server *s);
/* "http://127.0.0.1:7070" with the port actually bound. */
void server_http_url(Server *s, char *buf, size_t size);
/* SIGHUP: re-reads the TLS certificate and key and starts a listener with
 * them on the same socket; the old one takes no new connection and is
 * stopped once its connections are gone (server_http_reap()). 0 when
 * there is no TLS to reload; on error the old listener carries on. */
int server_http_reload(Server *s, CoreError *err);
/* Stops the replaced listeners that are idle or past their deadline. */
void server_http_reap(Server *s, uint64_t now_usec);
/* CLOCK_MONOTONIC in microseconds. */
uint64_t server_now_usec(void);
/* libmicrohttpd's messages into server_log() (MHD_OPTION_EXTERNAL_LOGGER). */
void server_mhd_log(void *cls, const char *fmt, va_list ap);
/* "SCHEME://ADDRESS:PORT[SUFFIX]" of a listener, the port as bound. */
void server_format_url(const struct sockaddr_storage *listen, struct MHD_Daemon *d, const char *scheme,
                       const char *suffix, char *buf, size_t size);
/* The same for the admin listener (--admin-listen). */
void server_http_admin_url(Server *s, char *buf, size_t size);

/* Parses "127.0.0.1:7070", "[::1]:7070", "0.0.0.0:7070", "[::]:7070";
 * numeric addresses only, port 0 picks a free port. */
int server_parse_listen(const char *text, struct sockaddr_storage *ret, socklen_t *ret_len, CoreError *err);
