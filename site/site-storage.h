/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* licensed-site's database (SQLite, WAL): enrolled clients, join tokens,
 * the nonces of recent requests, and the leases. Every function is one
 * transaction; a grant is BEGIN IMMEDIATE, so the seat count it reads is
 * the one it writes against, and nothing is counted in memory: a restart
 * reads the leases back and can never grant more than the seats. One
 * connection, serialized by a mutex (the HTTP thread and the expiry sweep
 * share it). See docs/floating.md, "Seat counting". */

#include <stdbool.h>
#include <stdint.h>

#include "error.h"
#include "lease.h"

typedef struct SiteStorage SiteStorage;

int site_storage_open(const char *path, SiteStorage **ret, CoreError *err);
void site_storage_close(SiteStorage *s);

/* Join tokens are kept as their SHA-256 only. */
int site_storage_add_token(SiteStorage *s, const char *token, int64_t expires, CoreError *err);
/* The same, for a token that enrols its machine as an administrator of
 * the site (POST /v1/status shows it every lease, /v1/release frees any). */
int site_storage_add_token_admin(SiteStorage *s, const char *token, int64_t expires, bool admin, CoreError *err);

/* Uses the token up and enrols (or re-enrols) machine_id with device_key,
 * an administrator if the token says so (and no longer one if not):
 * 1, or 0 if the token is unknown, used or expired. */
int site_storage_enrol(SiteStorage *s, const char *token, const char *machine_id, const char *device_key,
                       const char *host, int64_t now, CoreError *err);

/* 1 if machine_id is enrolled with exactly device_key, 0 if not. */
int site_storage_client_is_enrolled(SiteStorage *s, const char *machine_id, const char *device_key,
                                    CoreError *err);

/* Records a request's nonce: 1 if it was not seen since now - keep, 0 if it
 * was (a replay). Forgets older ones. */
int site_storage_use_nonce(SiteStorage *s, const char *nonce, int64_t now, int64_t keep, CoreError *err);

/* Called for each lease the expiry removes, inside its transaction. */
typedef void (*SiteExpiredFunc)(const Lease *l, void *userdata);

/* Removes the leases that ended by now (expires, or borrowed-until for a
 * borrowed one); returns how many. */
int site_storage_expire(SiteStorage *s, int64_t now, SiteExpiredFunc expired, void *userdata, CoreError *err);

/* A floating license a lease may draw on: its digest and the feature's seats. */
typedef struct SitePool {
        const char *digest;
        uint32_t seats;
} SitePool;

/* In one transaction: expires what ended, then stores l (everything but
 * l->license set by the caller) in the first pool with a free seat and
 * sets l->license to its digest: 1. 0 if every seat of every pool is
 * taken. *ret_used and *ret_seats: the leases and seats of the feature
 * over all pools, after the grant. */
int site_storage_grant(SiteStorage *s, Lease *l, const SitePool *pools, size_t n_pools, int64_t now,
                       SiteExpiredFunc expired, void *userdata, unsigned *ret_used, unsigned *ret_seats,
                       CoreError *err);

/* Who a reservation or a limit of the site configuration is for
 * (site-config.c reads them; the grant enforces them). */
typedef enum SiteWho {
        SITE_WHO_USER,
        SITE_WHO_HOST,
        SITE_WHO_GROUP,
        _SITE_WHO_MAX,
} SiteWho;

typedef struct SiteRule {
        SiteWho who;
        char *name;
        uint32_t seats;
} SiteRule;

/* The reservations and limits of one product's feature; the lease's user,
 * host and groups (",a,b,": the groups of the user on the site machine)
 * are matched against them. */
typedef struct SitePolicy {
        const SiteRule *reserve;
        size_t n_reserve;
        const SiteRule *max;
        size_t n_max;
} SitePolicy;

typedef enum SiteDenial {
        SITE_DENIAL_NONE,
        SITE_DENIAL_ALL_IN_USE, /* every seat is held */
        SITE_DENIAL_RESERVED,   /* the seats left are reserved for others */
        SITE_DENIAL_MAX,        /* a limit the requester falls under is reached */
} SiteDenial;

/* site_storage_grant() under a policy (NULL: none), in the same
 * transaction: the seats left free by the leases are first kept for the
 * reservations the requester does not match (each reservation minus the
 * leases its user/host/group holds), and a limit the requester matches
 * must have a seat left. groups is stored with the lease, so that a later
 * grant counts it against group rules. On 0, *ret_denial says why and, for
 * SITE_DENIAL_MAX, *ret_rule which limit. */
int site_storage_grant_policy(SiteStorage *s, Lease *l, const char *groups, const SitePool *pools, size_t n_pools,
                              const SitePolicy *policy, int64_t now, SiteExpiredFunc expired, void *userdata,
                              unsigned *ret_used, unsigned *ret_seats, SiteDenial *ret_denial,
                              const SiteRule **ret_rule, CoreError *err);

/* The holders of the leases of product's feature that hold at now, as
 * "user@host, user@host" (at most max of them, then ", ..."). */
int site_storage_holders(SiteStorage *s, const char *product, const char *feature, int64_t now, size_t max,
                         char **ret, CoreError *err);

/* Removes lease id whoever holds it (licensed-site release), reading it
 * into ret first: 1, or 0 if there is no such lease. */
int site_storage_release(SiteStorage *s, const char *id, Lease *ret, CoreError *err);
/* The same, but only if machine_id holds it (NULL: whoever does): -EPERM,
 * with nothing removed and ret read, if another client holds it. */
int site_storage_release_by(SiteStorage *s, const char *id, const char *machine_id, Lease *ret, CoreError *err);

/* Moves the expiry of machine_id's lease id on to expires, if it has not
 * ended by now, and reads it back into ret: 1, or 0 if there is no such
 * lease (ended, returned, another client's). */
int site_storage_renew(SiteStorage *s, const char *id, const char *machine_id, int64_t now, int64_t expires,
                       Lease *ret, CoreError *err);

/* site_storage_use_nonce() and site_storage_renew() in one transaction,
 * so a heartbeat costs one commit (one fsync), not two: 1 renewed, 0 no
 * such lease, -EALREADY if the nonce was seen (a replay; nothing renewed). */
int site_storage_heartbeat(SiteStorage *s, const char *nonce, int64_t keep, const char *id, const char *machine_id,
                           int64_t now, int64_t expires, Lease *ret, CoreError *err);

/* Removes machine_id's lease id: 1, or 0 if there is none. */
int site_storage_return(SiteStorage *s, const char *id, const char *machine_id, CoreError *err);

/* The leases of one floating license and feature that hold at now. */
int site_storage_count(SiteStorage *s, const char *digest, const char *feature, int64_t now, unsigned *ret,
                       CoreError *err);

/* Every lease that holds at now, oldest first (ret: an array of n, each
 * to be lease_done()'d, then freed). */
int site_storage_list(SiteStorage *s, int64_t now, Lease **ret, size_t *ret_n, CoreError *err);
/* The same, of machine_id's leases only (NULL: everyone's). */
int site_storage_list_of(SiteStorage *s, int64_t now, const char *machine_id, Lease **ret, size_t *ret_n,
                         CoreError *err);

/* The number of enrolled clients. */
int site_storage_clients(SiteStorage *s, unsigned *ret, CoreError *err);

/* 1 if machine_id is enrolled as an administrator, 0 if not. */
int site_storage_client_is_admin(SiteStorage *s, const char *machine_id, CoreError *err);

typedef struct SiteAdmin {
        char *machine_id;
        char *host;
} SiteAdmin;

/* The administrator clients, by host (ret: to be site_admin_free_many()'d). */
int site_storage_admins(SiteStorage *s, SiteAdmin **ret, size_t *ret_n, CoreError *err);
void site_admin_free_many(SiteAdmin *list, size_t n);
