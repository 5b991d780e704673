/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* licensed-site: the customer's license server for floating licenses
 * (docs/floating.md, licensed-site(8)).
 *
 *   site-main.c       options, verbs, signals, the expiry sweep
 *   site-config.c     site.conf: options, reservations and limits
 *   site-state.c      the state directory: site id, site key, licenses
 *   site-tls.c        the self-signed certificate, its fingerprint
 *   site-http.c       libmicrohttpd with TLS: bodies, routes, replies
 *   site-handlers.c   the protocol: enrol, checkout, heartbeat, return, borrow, status, release
 *   site-storage.c    the database
 *   site-events.c     journal events */

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "crypto.h"
#include "lease.h"
#include "license.h"
#include "product.h"
#include <pthread.h>

#include "site-config.h"
#include "site-storage.h"

#define SITE_BODY_MAX (64 * 1024)
/* A request is accepted within this much of the site's clock, once. */
#define SITE_REQUEST_WINDOW (5 * SEC_PER_MINUTE)

typedef struct SiteLicense {
        License license;
        char *text; /* armored, as installed: what clients verify */
        char digest[LEASE_DIGEST_STRING_SIZE];
} SiteLicense;

typedef struct Site {
        char *state_dir;
        char id[LEASE_ID_STRING_SIZE];
        EVP_PKEY *key;
        char *key_base64;
        ProductSet products;
        SiteLicense *licenses;
        size_t n_licenses;
        SiteStorage *storage;

        char *tls_cert; /* PEM */
        char *tls_key;  /* PEM */
        char fingerprint[96]; /* SHA-256 of the certificate, hex pairs with colons */

        /* site.conf's reservations, limits, show_holders, and the two
         * durations (flag, else site.conf, else the default): replaced on
         * SIGHUP by the main thread while the HTTP thread reads them, so
         * both hold config_lock. */
        int64_t lease_ttl;
        int64_t borrow_max;
        SiteConfig config;
        pthread_mutex_t config_lock;
        struct sockaddr_storage listen;
        struct MHD_Daemon *httpd;
} Site;

/* site-state.c ------------------------------------------------------------ */

/* Opens the state directory, the site id and the site key; with create,
 * makes what is missing (the server's first start), else what is missing
 * is -ENOENT with a sentence (the administration verbs make nothing the
 * service would then not own). */
int site_state_open(Site *s, const char *state_dir, bool create, CoreError *err);
/* Loads licenses/ *.lic: each verified against the products, of type
 * floating and bound to this site; a file that is not is skipped with a
 * warning. */
int site_state_load_licenses(Site *s, CoreError *err);
/* Verifies text as site_state_load_licenses() would and stores it as licenses/ID.lic. */
int site_state_install(Site *s, const char *text, size_t len, License *ret, CoreError *err);
void site_done(Site *s);

/* The "wrong site" check for a license: floating, bound to this site id and key. */
int site_license_check(const Site *s, const License *l, CoreError *err);

/* site-activate.c ---------------------------------------------------------- */

/* The ACTIVATION REQUEST of this site (site id, site key) for a license key. */
int site_activation_request(Site *s, const char *product, const char *key, char **ret, CoreError *err);
/* Posts it to server_url's /v1/activate; the license from the answer. */
int site_activate_online(const char *server_url, const char *ca_file, const char *request, char **ret_license,
                         CoreError *err);

/* site-tls.c -------------------------------------------------------------- */

/* Reads tls.crt and tls.key from the state directory, making them first if
 * there are none and create is set (ECDSA P-256, self-signed, 10 years;
 * the key 0600), and sets s->fingerprint. */
int site_tls_load(Site *s, bool create, CoreError *err);

/* site-events.c ----------------------------------------------------------- */

#define SITE_EVENT_GRANTED "5b0e3a1c7d9f4e62a8c4b1d2e3f40516"
#define SITE_EVENT_ALL_IN_USE "9c2d4e6f80a14b3c95d7e8f9a0b1c2d3"
#define SITE_EVENT_EXPIRED "2e4f6a8c0b1d4f3e8a7c6b5d4e3f2a10"
#define SITE_EVENT_BORROWED "7a9c1e3f5b7d49e1a3c5e7f9b1d3f5a7"
#define SITE_EVENT_RELEASED "c41e8d2a6f3b4c7d9e0a1b2c3d4e5f60"
#define SITE_EVENT_LIMITED "d8f3a5c7e9b14d2f86a0c2e4f6a8b0c2"

/* One event about a lease (or about the request l describes, for a
 * denial): LEASE_ID (if l->id), PRODUCT, FEATURE, CLIENT_HOST, CLIENT_USER,
 * and SEATS_USED/SEATS when seats > 0, BORROWED_UNTIL when borrowed. */
void site_event(const char *message_id, int priority, const Lease *l, unsigned used, unsigned seats,
                const char *fmt, ...) __attribute__((format(printf, 6, 7)));
/* A lease freed by 'licensed-site release' (by_host NULL) or by a
 * client's POST /v1/release from by_host (RELEASED_BY_HOST=). */
void site_event_released(const Lease *l, const char *by_host);
/* The expiry callback of the storage: one event per expired lease. */
void site_event_expired(const Lease *l, void *userdata);

/* site-http.c and site-handlers.c ------------------------------------------ */

typedef struct SiteReply {
        unsigned status;
        json_object *body;
} SiteReply;

void site_reply_done(SiteReply *r);
/* {"error": {"code": ..., "message": ...}}; returns 0. */
int site_reply_error(SiteReply *r, unsigned status, const char *code, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));

/* Answers one request: path, and the body (NULL for GET). */
void site_handle(Site *s, const char *method, const char *path, const char *body, size_t len, SiteReply *reply);

int site_http_start(Site *s, CoreError *err);
void site_http_stop(Site *s);
unsigned site_http_port(Site *s);

/* "HOST:PORT", "[V6]:PORT": numeric only. */
int site_parse_listen(const char *text, struct sockaddr_storage *ret, CoreError *err);
