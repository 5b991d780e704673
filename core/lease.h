/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Floating licenses (docs/floating.md): the two documents between a site
 * server (licensed-site) and its clients, and the check a client makes.
 *
 *   FLOATING LEASE   site -> client   signed by the site key, which is the
 *                                     floating license's device-key
 *   SITE REQUEST     client -> site   signed by the client's device key
 *
 * Same armor and "name: value" codec as the other documents (one accepted
 * spelling of each value). lease_check_chain() is the whole trust decision
 * a client makes over a lease, as a pure function: vendor -> floating
 * license -> site key -> lease -> this client, at a given time. */

#include <stdint.h>

#include "crypto.h"
#include "error.h"
#include "license.h"
#include "product.h"

#define LEASE_KIND "FLOATING LEASE"
#define SITE_REQUEST_KIND "SITE REQUEST"
#define LEASE_ID_HEX_LEN 32 /* lease ids, site ids and join tokens */
#define LEASE_ID_STRING_SIZE (LEASE_ID_HEX_LEN + 1)
#define LEASE_DIGEST_HEX_LEN 64 /* SHA-256 of the floating license's armored text */
#define LEASE_DIGEST_STRING_SIZE (LEASE_DIGEST_HEX_LEN + 1)
#define LEASE_TEXT_MAX 255 /* user and host */

typedef struct Lease {
        char *site;       /* the site id: the floating license's machine-id */
        char *id;         /* random, LEASE_ID_HEX_LEN hex */
        char *product;
        char *feature;
        char *machine_id; /* the client's */
        char *device_key; /* the client's, base64 */
        char *user;
        char *host;
        int64_t granted;
        int64_t expires;        /* granted + TTL, moved on by each heartbeat */
        int64_t borrowed_until; /* TIME_UNSET: not borrowed */
        char *license;          /* lease_license_digest() of the license it draws on */
} Lease;

#define LEASE_INIT {}

void lease_done(Lease *l);

/* Lower-case hex SHA-256 of the license's armored text, as the lease names it. */
int lease_license_digest(const char *license_text, size_t len, char out[static LEASE_DIGEST_STRING_SIZE]);

/* Formats (refusing what the parser would refuse), signs with the site key and armors. */
int lease_sign(const Lease *l, EVP_PKEY *site_key, char **ret);

/* Decodes, verifies against key (-ENOKEY: signed by another key,
 * -EKEYREJECTED: altered), then parses strictly (-EBADMSG). */
int lease_verify_with_key(const char *text, size_t len, EVP_PKEY *key, Lease *ret, CoreError *err);

/* The chain check a client makes, with nothing but its products' trust
 * keys, its own identity and the time:
 *   1. the license verifies against a trust key of its product, is of type
 *      floating and bound to a site (machine-id and device-key);
 *   2. the lease is signed by that device-key (-ENOKEY, -EKEYREJECTED);
 *   3. the lease names that license, its site and product, and a feature
 *      the license counts (-EXDEV);
 *   4. the lease is this client's: machine_id and device_key (-EPERM);
 *   5. it holds at now: granted <= now < expires, or now < borrowed-until;
 *      and the license and the feature have not ended (-ETIME).
 * Every refusal comes with a sentence. ret_license and ret_lease are
 * optional. */
int lease_check_chain(const char *license_text, size_t license_len, const char *lease_text, size_t lease_len,
                      const ProductSet *products, const char *machine_id, const char *device_key, int64_t now,
                      License *ret_license, Lease *ret_lease, CoreError *err);

typedef enum SiteRequestType {
        SITE_REQUEST_ENROL,
        SITE_REQUEST_CHECKOUT,
        SITE_REQUEST_HEARTBEAT,
        SITE_REQUEST_RETURN,
        SITE_REQUEST_BORROW,
        SITE_REQUEST_STATUS,
        SITE_REQUEST_RELEASE,
        _SITE_REQUEST_TYPE_MAX,
        _SITE_REQUEST_TYPE_INVALID = -1,
} SiteRequestType;

typedef struct SiteRequest {
        SiteRequestType type;
        char *site;       /* the site it is meant for */
        char *machine_id; /* the client's */
        char *device_key; /* the client's, base64: the key it is signed with */
        char *nonce;
        int64_t created;
        char *token;          /* enrol */
        char *lease;          /* heartbeat, return, release */
        char *product;        /* checkout, borrow */
        char *feature;        /* checkout, borrow */
        char *user;           /* checkout, borrow */
        char *host;           /* enrol, checkout, borrow, release */
        int64_t borrow_until; /* borrow */
} SiteRequest;

#define SITE_REQUEST_INIT {.type = _SITE_REQUEST_TYPE_INVALID}

const char *site_request_type_to_string(SiteRequestType t);
SiteRequestType site_request_type_from_string(const char *s);

void site_request_done(SiteRequest *r);

/* Checks the fields the type has (and that no other is set), formats,
 * signs with device_key, whose public half must be r->device_key. */
int site_request_sign(const SiteRequest *r, EVP_PKEY *device_key, char **ret);

/* Decodes, parses strictly, verifies against the device-key inside it
 * (self-signed, as machine documents are: what it proves is possession of
 * that key). -EBADMSG, -EPROTONOSUPPORT, -ENOKEY, -EKEYREJECTED. */
int site_request_verify(const char *text, size_t len, SiteRequest *ret, CoreError *err);
