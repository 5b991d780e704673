/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* What a storage backend implements: storage.h's functions, one for one,
 * with the same contract (see there). storage.c picks the backend from the
 * database argument and forwards every call; a backend's Storage is the
 * first member of its own struct. The helpers below are shared by the
 * backends, so an entitlement reads back the same from either. */

#include "build-info.h"
#include "storage.h"

typedef struct StorageBackend {
        const char *name;
        int (*open)(const char *path, Storage **ret, CoreError *err);
        /* optional: open with the options; without it open() is called */
        int (*open_with)(const char *path, const StorageOptions *o, Storage **ret, CoreError *err);
        void (*close)(Storage *s);
        int (*ping)(Storage *s, CoreError *err);
        /* optional: connections of a pool, for the metrics */
        int (*pool_stats)(Storage *s, unsigned *ret_in_use, unsigned *ret_size);
        int (*entitlement_create)(Storage *s, const Entitlement *e, CoreError *err);
        int (*entitlement_get)(Storage *s, const char *key, Entitlement *ret, CoreError *err);
        int (*entitlement_list)(Storage *s, Entitlement **ret, size_t *ret_n, CoreError *err);
        int (*entitlement_upgrade)(Storage *s, const Entitlement *e, CoreError *err);
        int (*entitlement_revoke)(Storage *s, const char *key, CoreError *err);
        int (*activate)(Storage *s, const ActivationClaim *c, Entitlement *ret_e, Activation *ret_a,
                        CoreError *err);
        int (*activation_get)(Storage *s, const char *license_id, Activation *ret, CoreError *err);
        int (*activation_list)(Storage *s, const char *key, Activation **ret, size_t *ret_n, CoreError *err);
        int (*validate)(Storage *s, const ValidationClaim *c, Activation *ret_a, Entitlement *ret_e,
                        CoreError *err);
        int (*activation_seen)(Storage *s, int64_t id, uint32_t revision, int64_t now, CoreError *err);
        int (*activation_release)(Storage *s, int64_t id, const char *proof_nonce, int64_t now,
                                  CoreError *err);
        int (*release_machine)(Storage *s, const char *key, const char *machine_id, int64_t now,
                               unsigned *ret_n, CoreError *err);
        /* the customer portal */
        int (*portal_release)(Storage *s, const PortalReleaseClaim *c, unsigned *ret_n, int64_t *ret_oldest,
                              CoreError *err);
        int (*portal_releases)(Storage *s, const char *key, int64_t since, unsigned *ret_n, int64_t *ret_oldest,
                               CoreError *err);
        int (*trial_offer)(Storage *s, const char *product, char key[static LICENSE_KEY_STRING_SIZE],
                           CoreError *err);
        int (*trial_reset)(Storage *s, const char *product, const char *machine_id, const char *hardware_id,
                           int64_t now, unsigned *ret_trials, unsigned *ret_released, CoreError *err);
        /* the admin API */
        int (*entitlement_query)(Storage *s, const EntitlementQuery *q, Entitlement **ret, size_t *ret_n,
                                 CoreError *err);
        int (*product_list)(Storage *s, ProductSummary **ret, size_t *ret_n, CoreError *err);
        int (*token_create)(Storage *s, const Token *t, CoreError *err);
        int (*token_list)(Storage *s, Token **ret, size_t *ret_n, CoreError *err);
        int (*token_revoke)(Storage *s, const char *name, int64_t now, CoreError *err);
        int (*token_use)(Storage *s, const char *hash, int64_t now, Token *ret, CoreError *err);
} StorageBackend;

struct Storage {
        const StorageBackend *backend;
};

extern const StorageBackend storage_backend_sqlite;
#if HAVE_POSTGRES
extern const StorageBackend storage_backend_postgres;
#endif

/* The columns features and properties hold JSON in the shape
 * license_to_json() gives them. */
int storage_features_to_json(const License *l, char **ret_features, char **ret_properties);
int storage_features_from_json(License *l, const char *features, const char *properties, CoreError *err);

/* Completes an entitlement read from a row: checks that it has a product,
 * licensee and type, and adds the features and properties from their
 * columns' JSON. -EBADMSG with a sentence naming the key if the row is
 * bad. */
int storage_entitlement_check(Entitlement *e, const char *features, const char *properties, CoreError *err);

/* The seat logic's checks, the same on every backend. Of an activation
 * claim c on the entitlement e as read in its transaction, has_seat
 * saying whether the machine holds a seat of it already: STORAGE_OK, or
 * the answer STORAGE_WRONG_PRODUCT, STORAGE_REVOKED or STORAGE_NO_SEAT. */
int storage_activation_checks(const ActivationClaim *c, const Entitlement *e, bool has_seat, CoreError *err);
/* Of a validation claim c on activation a of e: STORAGE_OK, or the answer
 * STORAGE_WRONG_MACHINE or STORAGE_WRONG_PRODUCT. */
int storage_validation_checks(const ValidationClaim *c, const Activation *a, const Entitlement *e,
                              CoreError *err);

/* A trial offer's key given to activate: STORAGE_UNKNOWN_KEY, as for a key
 * the server does not know. The offer's key is the vendor's handle, not a
 * customer's key, and activating with it would skip the one trial per
 * machine. */
int storage_not_a_key(const char *key, CoreError *err);

/* STORAGE_TRIAL_USED with the sentence naming when the trial of product
 * started on this machine (same on every backend). */
int storage_trial_used(int64_t started, const char *product, CoreError *err);

/* -ENOENT with the sentence of a trial reset that found no trial (same on
 * every backend). */
int storage_trial_reset_none(const char *product, const char *machine_id, const char *hardware_id,
                             CoreError *err);

/* For a StorageResult that is an answer, not a failure: the sentence goes
 * to err, the result is returned. */
#define STORAGE_ANSWER(err, result, ...) ((void) core_error_set((err), 0, __VA_ARGS__), (int) (result))
