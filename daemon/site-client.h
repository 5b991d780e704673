/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The client side of floating licenses (docs/floating.md): the site this
 * machine joined (site-client.c) and the leases it holds (leases.c, and
 * leases-borrow.c, leases-admin.c, leases-shutdown.c; leases-internal.h is
 * what they share).
 *
 * The floating license lives on the site server, not here. What the daemon
 * keeps in its state directory:
 *
 *   site/site.conf       url, site id, site key, pinned certificate fingerprint
 *   site/licenses        the site's floating licenses as last fetched (armored)
 *   site/borrowed/ID.lease, ID.lic   a borrowed lease and the license it draws on
 *
 * Leases taken by CheckOut are held in memory only: each belongs to the bus
 * connection that asked (returned when it goes, or when licensed stops),
 * and is kept by heartbeats. */

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-bus.h>

#include "context.h"
#include "http.h"
#include "lease.h"
#include "pending-call.h"

#define SITE_FINGERPRINT_HEX_LEN 64
#define SITE_REQUEST_TIMEOUT_USEC (15 * USEC_PER_SEC)
/* CheckOut answers within liblicensed's default 5 s timeout (plugin/), so
 * that a site that does not answer is "site-unreachable" to the program,
 * not "licensed cannot be asked". A LAN answers in milliseconds. */
#define SITE_CHECKOUT_TIMEOUT_USEC (4 * USEC_PER_SEC)

typedef struct SiteLicense {
        char *text;
        License license;
} SiteLicense;

typedef struct SiteClient {
        char *url; /* https://host:port, no trailing slash */
        char id[LEASE_ID_STRING_SIZE];
        char *key; /* the site key, base64 */
        char fingerprint[SITE_FINGERPRINT_HEX_LEN + 1];
        SiteLicense *licenses; /* verified floating licenses of that site */
        size_t n_licenses;
} SiteClient;

/* site-client.c ------------------------------------------------------------ */

/* Loads site/ at start; a machine that never joined has c->site NULL. A
 * damaged file is logged and left alone (the site is then not joined). */
int site_client_load(Context *c);
void site_client_free(SiteClient *s);

/* The site's floating license of product that counts feature, or NULL. */
const SiteLicense *site_client_find_license(Context *c, const char *product, const char *feature);

/* Manager.JoinSite, once authorized. */
int site_client_join(Context *c, sd_bus_message *m, const char *url, const char *token, const char *fingerprint);
/* Manager.LeaveSite, once authorized. */
int site_client_leave(Context *c, sd_bus_message *m);

/* A signed SITE REQUEST of type for the joined site, with the fields
 * common to all (site, machine, key, nonce, created); fill() sets the rest
 * of r before it is signed. Returns the JSON body {"request": ...}. */
int site_request_body(Context *c, SiteRequest *r, char **ret_body);
/* Takes over answering m (*ret_call), sends the signed request sr to url
 * of the joined site, and arranges for cancel(userdata) on shutdown;
 * done(userdata) gets the answer. Returns 1 when sent (done() then owns
 * userdata); otherwise m is answered with the error (the call is ended)
 * and 0 or a negative errno returned, and userdata stays the caller's. */
int site_send(Context *c, sd_bus_message *m, PendingCall **ret_call, SiteRequest *sr, const char *url,
              uint64_t timeout_usec, HttpDoneFunc done, PendingCallCancel cancel, void *userdata);
/* URL of an endpoint ("/v1/checkout") of the joined site. */
char *site_endpoint(const SiteClient *s, const char *path);

/* What a site answered, sorted out. */
typedef enum SiteOutcome {
        SITE_OK,
        SITE_UNREACHABLE, /* transport failure, 5xx, or not the pinned certificate */
        SITE_REFUSED,     /* a 4xx with its code */
        SITE_BAD_ANSWER,  /* 200 but not the JSON expected */
} SiteOutcome;

typedef struct SiteAnswer {
        SiteOutcome outcome;
        json_object *json; /* SITE_OK: the object */
        char code[64];     /* SITE_REFUSED: the error code, e.g. "all-in-use" */
        char message[640]; /* printable: what went wrong, for a person */
} SiteAnswer;

void site_answer_parse(const HttpResult *res, const char *url, SiteAnswer *ret);
void site_answer_done(SiteAnswer *a);
/* Fills a bus error from an answer that is not SITE_OK. */
int site_answer_to_bus_error(const SiteAnswer *a, sd_bus_error *error);

/* leases.c, leases-borrow.c, leases-admin.c ------------------------------------ */

typedef struct HeldLease HeldLease;

/* Borrowed leases from site/borrowed/, at start. */
int leases_load_borrowed(Context *c);
void leases_free_all(Context *c);
/* Leases held (idle exit waits while there are any). */
unsigned leases_total(Context *c);

/* CheckFeature of a feature no local license grants: licensed while a
 * valid lease of it is held on this machine (by any caller), until the
 * lease's end; no-lease if the site floats it and none is held.
 * Returns false if the joined site does not float it (nor is a lease held). */
bool leases_check_feature(Context *c, const char *product, const char *feature, int64_t now, Verdict *ret);
/* CheckOut of a floating feature: replies to m now or when the site
 * has answered. */
int leases_check_out(Context *c, sd_bus_message *m, const char *product, const char *feature);
/* Return of a floating feature's lease held by the sender of m: 1 if it
 * held one (given back to the site in the background), 0 if not. */
int leases_return(Context *c, sd_bus_message *m, const char *product, const char *feature);

/* Manager.Borrow and ReturnBorrowed, once authorized. */
int leases_borrow(Context *c, sd_bus_message *m, const char *product, const char *feature, int64_t until);
int leases_return_borrowed(Context *c, sd_bus_message *m, const char *what, const char *feature);
/* Manager.SiteStatus. */
int leases_site_status(Context *c, sd_bus_message *m);
/* Manager.ReleaseSiteLease, once authorized: POST /v1/release; a lease
 * this daemon holds under that id is forgotten once the site let it go. */
int leases_release_site_lease(Context *c, sd_bus_message *m, const char *id);
/* Drops (and gives back) every lease that is not borrowed: leaving a site. */
void leases_return_all_taken(Context *c);

/* leases-shutdown.c: once the event loop has ended, gives every lease taken
 * for a program back to the site, waiting 2 s at most in all (borrowed
 * leases stay). */
void leases_return_at_exit(Context *c);
