/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The activation server's database: entitlements (what a license key
 * allows) and activations (which machines hold a seat of it). One
 * interface (storage.c), implemented by a backend (storage-backend.h):
 * SQLite in storage-sqlite.c (a file path), PostgreSQL in
 * storage-postgres.c (a postgresql:// or postgres:// URI). Every function
 * is one transaction, so several server processes and licensed-vendor may
 * share one database. See docs/protocol.md, "Storage".
 *
 * Functions return negative errno when they cannot answer. Four of them
 * say the database cannot be reached for now, and that nothing of the call
 * was written (storage_error_is_transient()): -ECONNREFUSED (cannot
 * connect), -ENOTCONN (the connection broke mid-way), -ETIMEDOUT (a
 * statement ran into the timeout) and -EBUSY (locked or every connection
 * busy for too long). The ones whose
 * failure is the caller's input or the database state also fill in a
 * CoreError sentence. The "no"s of the seat logic that the server passes on
 * to machines are not failures: those functions return a StorageResult
 * (non-negative), with the sentence in the CoreError. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "license-key.h"
#include "license.h"

typedef struct Storage Storage;

/* The answers of the seat logic (storage_activate(),
 * storage_activation_get(), storage_activation_release()). The server maps
 * each to an HTTP status and error code (server-handlers.c). */
typedef enum StorageResult {
        STORAGE_OK,
        STORAGE_UNKNOWN_KEY,     /* no entitlement has the license key */
        STORAGE_UNKNOWN_LICENSE, /* no activation has the license id */
        STORAGE_WRONG_PRODUCT,   /* the key is for another product */
        STORAGE_REVOKED,         /* the vendor revoked the key */
        STORAGE_NO_SEAT,         /* every seat of the key is taken */
        STORAGE_PROOF_USED,      /* the deactivation proof was acted on before */
        STORAGE_WRONG_MACHINE,   /* the license id is bound to another machine */
        STORAGE_TRIAL_USED,      /* this machine started a trial of the product before */
        _STORAGE_RESULT_MAX,
} StorageResult;

/* For storage_open(): a database that lives in memory and dies with the
 * connection (the unit tests). */
#define STORAGE_IN_MEMORY ":memory:"

typedef struct Entitlement {
        char key[LICENSE_KEY_STRING_SIZE]; /* canonical license key */
        /* What an activated machine gets, not yet bound: product, licensee,
         * type, not-before/not-after, maintenance-until, features,
         * properties, validation policy, and the revision. id, issued, key,
         * machine-id, device-key and nonce are unset. */
        License license;
        uint32_t seats; /* machines that may hold it at once, >= 1 */
        bool revoked;
        int64_t created;
        int64_t updated;
        uint32_t active; /* active activations; filled in when read */
        /* > 0: the product's trial offer, each machine's license lasting
         * this many days from its activation (docs/protocol.md, "Trials") */
        uint32_t trial_days;
        /* a machine may give its seat back (online, or with an offline
         * proof) only while maintenance_until has not passed */
        bool deactivation_requires_maintenance;
} Entitlement;

#define ENTITLEMENT_INIT                                                                                    \
        { .license = LICENSE_INIT }

void entitlement_done(Entitlement *e);

typedef struct Activation {
        int64_t id;
        char key[LICENSE_KEY_STRING_SIZE];
        char *license_id;
        char *machine_id;
        char *device_key;
        char *hostname;    /* may be NULL */
        char *nonce;       /* of the request that activated it last */
        uint32_t revision; /* of the license last sent to the machine */
        int64_t activated;
        int64_t last_seen;
        int64_t released; /* TIME_UNSET while the machine holds its seat */
} Activation;

void activation_done(Activation *a);
void activation_array_free(Activation *a, size_t n);
void entitlement_array_free(Entitlement *e, size_t n);

/* Opens (creating if needed, mode 0600) and migrates the database, or with
 * STORAGE_IN_MEMORY a fresh one in memory. WAL journal, a busy timeout for
 * other processes. -EPROTONOSUPPORT if the database was made by a newer
 * version. */
int storage_open(const char *path, Storage **ret, CoreError *err);

/* What a server process tunes; 0 is the default. PostgreSQL: at most
 * pool_size connections (STORAGE_POOL_DEFAULT), each statement and each
 * connect bounded by timeout_ms (STORAGE_TIMEOUT_MS_DEFAULT). SQLite has
 * one connection and its busy timeout, and ignores both. */
typedef struct StorageOptions {
        unsigned pool_size;
        unsigned timeout_ms;
} StorageOptions;

#define STORAGE_POOL_DEFAULT 8
#define STORAGE_TIMEOUT_MS_DEFAULT 5000

int storage_open_with(const char *path, const StorageOptions *o, Storage **ret, CoreError *err);

/* Whether path names a PostgreSQL database (a libpq URI). */
bool storage_path_is_postgres(const char *path);

/* path as it may be logged: a URI's password replaced by "***". */
char *storage_path_redact(const char *path);

/* Whether r (negative errno from a storage function) means the database
 * cannot be reached for now: a retry later may succeed, nothing was
 * written. */
bool storage_error_is_transient(int r);
Storage *storage_close(Storage *s);
DEFINE_TRIVIAL_CLEANUP_FUNC(Storage *, storage_close);

/* "sqlite", ...: which backend s uses. */
const char *storage_backend_name(Storage *s);

/* Readiness: one real query. 0, or negative errno when the database does
 * not answer. */
int storage_ping(Storage *s, CoreError *err);

/* A backend with a pool of connections (PostgreSQL): how many are lent out
 * and how many there may be at most. -EOPNOTSUPP for one without. */
int storage_pool_stats(Storage *s, unsigned *ret_in_use, unsigned *ret_size);

/* Adds e (key, license template, seats); revision 1. -EEXIST if the key
 * exists. */
int storage_entitlement_create(Storage *s, const Entitlement *e, CoreError *err);

/* -ENOENT if the key is unknown (the vendor's verbs only report it). */
int storage_entitlement_get(Storage *s, const char *key, Entitlement *ret, CoreError *err);

/* All entitlements, oldest first. */
int storage_entitlement_list(Storage *s, Entitlement **ret, size_t *ret_n, CoreError *err);

/* Replaces the license template and seats of e->key and bumps the revision
 * to e->license.revision + 1, if the stored revision is still
 * e->license.revision (else -ESTALE: someone else changed it meanwhile).
 * -ENOENT if the key is unknown. */
int storage_entitlement_upgrade(Storage *s, const Entitlement *e, CoreError *err);

/* Marks the key revoked. -ENOENT if unknown. */
int storage_entitlement_revoke(Storage *s, const char *key, CoreError *err);

/* What a machine asks for when it activates. */
typedef struct ActivationClaim {
        const char *key;     /* canonical */
        const char *product; /* must be the entitlement's */
        const char *license_id;
        const char *machine_id;
        const char *device_key;
        const char *hostname; /* may be NULL */
        const char *nonce;
        int64_t now;
        /* A trial: refused with STORAGE_TRIAL_USED when the machine id, or
         * the hardware id, started a trial of the product before (the
         * device key does not count: it is gone with the state directory;
         * the machine id goes with a reinstall, the hardware id stays),
         * else recorded with both. */
        bool trial;
        const char *hardware_id; /* a trial's, may be NULL */
} ActivationClaim;

/* Takes a seat of the key for the machine (machine id + device key), in
 * one transaction: the same machine gets its seat back, a new one gets a
 * free seat. Returns in ret_e the entitlement as read in that transaction
 * and in ret_a the activation, whose revision is set to the entitlement's.
 * Answers STORAGE_OK, STORAGE_UNKNOWN_KEY, STORAGE_WRONG_PRODUCT,
 * STORAGE_REVOKED or STORAGE_NO_SEAT (ret_e is filled in even then, so the
 * caller can say how many seats there are); negative errno on failure. */
int storage_activate(Storage *s, const ActivationClaim *c, Entitlement *ret_e, Activation *ret_a,
                     CoreError *err);

/* The activation a license id names, released or not: STORAGE_OK, or
 * STORAGE_UNKNOWN_LICENSE if none; negative errno on failure. */
int storage_activation_get(Storage *s, const char *license_id, Activation *ret, CoreError *err);

/* All activations, of one key or (key NULL) of all keys, oldest first. */
int storage_activation_list(Storage *s, const char *key, Activation **ret, size_t *ret_n, CoreError *err);

/* What a machine asks for when it validates. */
typedef struct ValidationClaim {
        const char *license_id;
        const char *machine_id; /* with device_key: the machine that signed the request */
        const char *device_key;
        const char *product;    /* must be the entitlement's */
        uint32_t revision;      /* of the license the machine holds */
        int64_t now;
} ValidationClaim;

/* A validation in one transaction: reads the activation c->license_id
 * names and its entitlement, checks they belong to the machine and product
 * that asked, and records the machine as seen at c->now holding the
 * revision it will hold after the answer: the entitlement's when that is
 * newer and the seat is still held (the caller sends the upgraded license),
 * else c->revision. Answers STORAGE_OK, STORAGE_UNKNOWN_LICENSE,
 * STORAGE_WRONG_MACHINE or STORAGE_WRONG_PRODUCT (nothing written then);
 * ret_a and ret_e are filled in on STORAGE_OK. Negative errno on failure. */
int storage_validate(Storage *s, const ValidationClaim *c, Activation *ret_a, Entitlement *ret_e,
                     CoreError *err);

/* The revision a machine that asked holding `asked` holds after the
 * answer: e's, if newer and the seat still licenses it. */
uint32_t storage_revision_after_validation(const Entitlement *e, const Activation *a, uint32_t asked);

/* Records that the machine of activation id validated at now and holds
 * revision. */
int storage_activation_seen(Storage *s, int64_t id, uint32_t revision, int64_t now, CoreError *err);

/* Frees the seat of activation id on the machine's signed proof, whose
 * nonce is recorded so that the same proof cannot be replayed:
 * STORAGE_OK, or STORAGE_PROOF_USED if it was used before; negative errno on
 * failure. Releasing a released activation is not an error. */
int storage_activation_release(Storage *s, int64_t id, const char *proof_nonce, int64_t now, CoreError *err);

/* The key of product's trial offer: its newest entitlement with trial days
 * that is not revoked. -ENOENT (no sentence) if it has none. */
int storage_trial_offer(Storage *s, const char *product, char key[static LICENSE_KEY_STRING_SIZE],
                        CoreError *err);

/* The vendor's trial reset (licensed-vendor trial reset): the trials of
 * product that the machine id machine_id or the hardware id hardware_id
 * started (either may be NULL, not both) are forgotten, and the seats of
 * the offer their trial licenses hold are freed, so that the machine can
 * start a new trial, which ends trial_days after its new start. In one
 * transaction: 0 with the number of trials forgotten in *ret_trials and of
 * seats freed in *ret_released, or -ENOENT with a sentence when the product
 * has no such trial. */
int storage_trial_reset(Storage *s, const char *product, const char *machine_id, const char *hardware_id,
                        int64_t now, unsigned *ret_trials, unsigned *ret_released, CoreError *err);

/* Whether a machine may give back its seat of key at now: -EPERM with the
 * sentence naming the date when the entitlement requires active
 * maintenance to deactivate and maintenance ended (a vendor's release of
 * a lost machine is not bound by it), 0 if it may, negative errno from the
 * database. */
int storage_deactivation_allowed(Storage *s, const char *key, int64_t now, CoreError *err);

/* The vendor frees the seats the machine machine_id holds of key (a lost
 * machine); *ret_n says how many. -ENOENT if it holds none. */
int storage_release_machine(Storage *s, const char *key, const char *machine_id, int64_t now,
                            unsigned *ret_n, CoreError *err);

/* The customer portal's self-service releases (docs/portal.md) -------------- */

typedef struct PortalReleaseClaim {
        const char *key; /* canonical */
        const char *machine_id;
        int64_t now;
        int64_t since;  /* the start of the vendor's window (now - 30 days) */
        unsigned limit; /* self-service releases of the key allowed since then; 0: no limit */
} PortalReleaseClaim;

/* In one transaction: if fewer than c->limit self-service releases of
 * c->key were recorded since c->since, frees the seats the machine holds
 * of the key (as storage_release_machine()) and records this release.
 * 0 and *ret_n; -EDQUOT when the limit is reached, with *ret_oldest the
 * time of the oldest release in the window (the next one is possible when
 * it leaves the window); -ENOENT if the machine holds no seat. */
int storage_portal_release(Storage *s, const PortalReleaseClaim *c, unsigned *ret_n, int64_t *ret_oldest,
                           CoreError *err);

/* The self-service releases of key recorded since since, for the portal's
 * page ("N of M releases used"): their number in *ret_n, the time of the
 * oldest of them in *ret_oldest (0 when none), as storage_portal_release()
 * counts them. */
int storage_portal_releases(Storage *s, const char *key, int64_t since, unsigned *ret_n, int64_t *ret_oldest,
                            CoreError *err);

/* The admin API (docs/protocol.md, "Admin API") ----------------------------- */

/* Which entitlements storage_entitlement_query() returns. */
typedef enum EntitlementState {
        ENTITLEMENT_STATE_ANY,
        ENTITLEMENT_STATE_ACTIVE,  /* not revoked */
        ENTITLEMENT_STATE_REVOKED,
} EntitlementState;

typedef struct EntitlementQuery {
        const char *product;  /* exactly this product; NULL: any */
        EntitlementState state;
        const char *licensee; /* licensee contains this text (case-sensitive, no wildcards); NULL: any */
        /* Paging: only the entitlements after (after_created, after_key) in
         * the list's order (created, then key); after_key NULL: from the
         * first. */
        int64_t after_created;
        const char *after_key;
        size_t limit; /* at most this many; 0: all */
} EntitlementQuery;

/* The entitlements q selects, oldest first (created, then key). */
int storage_entitlement_query(Storage *s, const EntitlementQuery *q, Entitlement **ret, size_t *ret_n,
                              CoreError *err);

/* A product the server knows: one that some entitlement is for. */
typedef struct ProductSummary {
        char *product;
        uint32_t entitlements; /* keys for it, revoked ones included */
        uint32_t active;       /* machines holding a seat of it now */
} ProductSummary;

void product_summary_array_free(ProductSummary *p, size_t n);

/* The products of all entitlements, by name. */
int storage_product_list(Storage *s, ProductSummary **ret, size_t *ret_n, CoreError *err);

/* Admin API tokens: the database keeps the SHA-256 of a token, never the
 * token. */
typedef enum TokenScope {
        TOKEN_SCOPE_READ,  /* the GET routes */
        TOKEN_SCOPE_WRITE, /* every admin route */
        _TOKEN_SCOPE_MAX,
} TokenScope;

/* SHA-256 in lowercase hex, with NUL. */
#define TOKEN_HASH_HEX_SIZE 65

typedef struct Token {
        int64_t id;
        char *name;
        TokenScope scope;
        char hash[TOKEN_HASH_HEX_SIZE];
        int64_t created;
        int64_t expires;   /* TIME_UNSET: never */
        int64_t last_used; /* TIME_UNSET: never */
        int64_t revoked;   /* TIME_UNSET: not revoked */
} Token;

void token_done(Token *t);
void token_array_free(Token *t, size_t n);
const char *token_scope_to_string(TokenScope s);
TokenScope token_scope_from_string(const char *s); /* -EINVAL if unknown */

/* Adds a token (t->name, scope, hash, created, expires). -EEXIST if the name
 * is taken. */
int storage_token_create(Storage *s, const Token *t, CoreError *err);

/* All tokens, revoked ones included, oldest first. */
int storage_token_list(Storage *s, Token **ret, size_t *ret_n, CoreError *err);

/* Revokes the token called name at now. -ENOENT if there is none (or it is
 * revoked already). */
int storage_token_revoke(Storage *s, const char *name, int64_t now, CoreError *err);

/* The token whose hash is hash (revoked or expired ones too: the caller
 * decides), recording now as its last use. -ENOENT if none has it. */
int storage_token_use(Storage *s, const char *hash, int64_t now, Token *ret, CoreError *err);
