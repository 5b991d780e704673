/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* licensed-server: the activation and validation server (docs/protocol.md).
 *
 *   server-main.c      options, signals, the context's life
 *   server-http.c      libmicrohttpd: listening, routing, bodies, replies
 *   server-handlers.c  the JSON API: activate, validate, deactivate, health
 *   server-offline.c   the JSON API of the offline page: which document, which answer
 *   server-routes.c    which path and method go where, which bodies are JSON
 *   server-page.c      the offline web page (activation, validation, deactivation)
 *   server-tls.c       certificate and key for HTTPS
 *   storage.h          the database */

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include "crypto.h"
#include "request.h"
#include "storage.h"

/* Largest request body; a machine document is a few KiB. */
#define SERVER_BODY_MAX (64 * 1024)

typedef struct ServerPage {
        char *html;
        char *csp; /* Content-Security-Policy allowing exactly the page's own script and style */
} ServerPage;

typedef struct Server {
        Storage *storage;
        EVP_PKEY *signing_key;
        ServerPage page;
        struct MHD_Daemon *httpd;

        /* from the options */
        struct sockaddr_storage listen;
        socklen_t listen_len;
        unsigned threads;
        unsigned timeout_sec;
        char *tls_cert; /* PEM text, NULL: plain HTTP */
        char *tls_key;
} Server;

/* Prints "licensed-server: <message>" to stderr (one line, thread-safe). */
void server_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* An API answer: HTTP status and a JSON body. */
typedef struct Reply {
        unsigned status;
        json_object *body;
        unsigned retry_after; /* seconds, for a Retry-After header; 0: none */
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
/* Verifies an armored machine document of type: 0, or negative after
 * filling in the reply (400 invalid-signature or invalid-request). */
int verify_document(const char *text, size_t len, MachineRequestType type, MachineRequest *ret, Reply *reply);

/* server-routes.c: the routing table and the body rule. */
typedef struct Route {
        const char *method; /* GET also answers HEAD */
        const char *path;
        ApiHandler api; /* NULL: the offline page */
} Route;

/* The route for method on path, or NULL; *ret_path_known says whether the
 * path has a route for another method (405, not 404). */
const Route *route_find(const char *method, const char *path, bool *ret_path_known);
/* The Allow header of a 405 on path ("GET, HEAD" or "POST"), NULL for no route. */
const char *route_allow(const char *path);
/* Whether a Content-Type value is application/json, optionally with
 * parameters, where a charset must be UTF-8. */
bool content_type_is_json(const char *v);

/* server-page.c */
int server_page_init(ServerPage *p);
void server_page_done(ServerPage *p);

/* server-tls.c: reads the PEM files, bounded; refuses a key that group or
 * others may read, and says so if this libmicrohttpd has no TLS. */
int server_tls_load(Server *s, const char *cert_path, const char *key_path, CoreError *err);
void server_tls_done(Server *s);

/* server-http.c */
int server_http_start(Server *s, CoreError *err);
void server_http_stop(Server *s);
/* "http://127.0.0.1:7070" with the port actually bound. */
void server_http_url(Server *s, char *buf, size_t size);

/* Parses "127.0.0.1:7070", "[::1]:7070", "0.0.0.0:7070", "[::]:7070";
 * numeric addresses only, port 0 picks a free port. */
int server_parse_listen(const char *text, struct sockaddr_storage *ret, socklen_t *ret_len, CoreError *err);
