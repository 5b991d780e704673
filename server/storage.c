/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* storage.h's front: picks the backend from the database argument and
 * forwards every call to it (storage-backend.h). What is the same for every
 * backend lives here too: freeing the records, and features and properties
 * as JSON. */

#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

#include "license-json.h"
#include "storage-backend.h"
#include "strutil.h"
#include "timeutil.h"

void entitlement_done(Entitlement *e) {
        if (!e)
                return;
        license_done(&e->license);
        *e = (Entitlement) ENTITLEMENT_INIT;
}

void activation_done(Activation *a) {
        if (!a)
                return;
        free(a->license_id);
        free(a->machine_id);
        free(a->device_key);
        free(a->hostname);
        free(a->nonce);
        *a = (Activation){};
}

void activation_array_free(Activation *a, size_t n) {
        for (size_t i = 0; i < n; i++)
                activation_done(&a[i]);
        free(a);
}

void entitlement_array_free(Entitlement *e, size_t n) {
        for (size_t i = 0; i < n; i++)
                entitlement_done(&e[i]);
        free(e);
}

bool storage_path_is_postgres(const char *path) {
        return startswith(path, "postgresql://") || startswith(path, "postgres://");
}

/* Which backend a database argument names: a libpq URI PostgreSQL, anything
 * else a SQLite file. NULL with a sentence if this build lacks it. */
static const StorageBackend *backend_for(const char *path, CoreError *err) {
        if (!storage_path_is_postgres(path))
                return &storage_backend_sqlite;
#if HAVE_POSTGRES
        return &storage_backend_postgres;
#else
        core_error_set(err, EPROTONOSUPPORT,
                       "this %s was built without PostgreSQL support; use a SQLite file for --db",
                       program_invocation_short_name);
        return NULL;
#endif
}

int storage_open_with(const char *path, const StorageOptions *o, Storage **ret, CoreError *err) {
        StorageOptions defaults = {STORAGE_POOL_DEFAULT, STORAGE_TIMEOUT_MS_DEFAULT};
        const StorageBackend *b;

        assert(path);
        assert(ret);
        b = backend_for(path, err);
        if (!b)
                return -EPROTONOSUPPORT;
        if (o) {
                defaults.pool_size = o->pool_size ?: defaults.pool_size;
                defaults.timeout_ms = o->timeout_ms ?: defaults.timeout_ms;
        }
        return b->open_with ? b->open_with(path, &defaults, ret, err) : b->open(path, ret, err);
}

int storage_open(const char *path, Storage **ret, CoreError *err) {
        return storage_open_with(path, NULL, ret, err);
}

bool storage_error_is_transient(int r) {
        return r == -ECONNREFUSED || r == -ENOTCONN || r == -ETIMEDOUT || r == -EBUSY;
}

/* The password of a URI sits between the user's ':' and the '@' of its
 * authority, or in a password= parameter. */
char *storage_path_redact(const char *path) {
        const char *auth, *end, *at, *colon, *q;
        char *out;
        size_t n;

        if (!storage_path_is_postgres(path))
                return strdup(path);
        auth = strstr(path, "://") + 3;
        end = auth + strcspn(auth, "/?");
        at = memrchr(auth, '@', (size_t) (end - auth));
        colon = at ? memchr(auth, ':', (size_t) (at - auth)) : NULL;
        if (colon) {
                if (asprintf(&out, "%.*s:***%s", (int) (colon - path), path, at) < 0)
                        return NULL;
        } else
                out = strdup(path);
        /* a password= parameter: cut the rest of the query off */
        q = out ? strstr(out, "password=") : NULL;
        if (q && (q[-1] == '?' || q[-1] == '&')) {
                n = (size_t) (q - out) + strlen("password=");
                out[n] = 0;
                char *m = realloc(out, n + 4);
                if (!m) {
                        free(out);
                        return NULL;
                }
                out = strcat(m, "***");
        }
        return out;
}

Storage *storage_close(Storage *s) {
        if (s)
                s->backend->close(s);
        return NULL;
}

const char *storage_backend_name(Storage *s) {
        return s->backend->name;
}

int storage_pool_stats(Storage *s, unsigned *ret_in_use, unsigned *ret_size) {
        if (!s->backend->pool_stats)
                return -EOPNOTSUPP;
        return s->backend->pool_stats(s, ret_in_use, ret_size);
}

int storage_ping(Storage *s, CoreError *err) {
        return s->backend->ping(s, err);
}

int storage_entitlement_create(Storage *s, const Entitlement *e, CoreError *err) {
        return s->backend->entitlement_create(s, e, err);
}

int storage_entitlement_get(Storage *s, const char *key, Entitlement *ret, CoreError *err) {
        return s->backend->entitlement_get(s, key, ret, err);
}

int storage_entitlement_list(Storage *s, Entitlement **ret, size_t *ret_n, CoreError *err) {
        return s->backend->entitlement_list(s, ret, ret_n, err);
}

int storage_entitlement_upgrade(Storage *s, const Entitlement *e, CoreError *err) {
        return s->backend->entitlement_upgrade(s, e, err);
}

int storage_entitlement_revoke(Storage *s, const char *key, CoreError *err) {
        return s->backend->entitlement_revoke(s, key, err);
}

int storage_activate(Storage *s, const ActivationClaim *c, Entitlement *ret_e, Activation *ret_a,
                     CoreError *err) {
        return s->backend->activate(s, c, ret_e, ret_a, err);
}

int storage_activation_get(Storage *s, const char *license_id, Activation *ret, CoreError *err) {
        return s->backend->activation_get(s, license_id, ret, err);
}

int storage_activation_list(Storage *s, const char *key, Activation **ret, size_t *ret_n, CoreError *err) {
        return s->backend->activation_list(s, key, ret, ret_n, err);
}

int storage_validate(Storage *s, const ValidationClaim *c, Activation *ret_a, Entitlement *ret_e,
                     CoreError *err) {
        return s->backend->validate(s, c, ret_a, ret_e, err);
}

uint32_t storage_revision_after_validation(const Entitlement *e, const Activation *a, uint32_t asked) {
        bool holds_seat = !e->revoked && a->released == TIME_UNSET;
        return holds_seat && e->license.revision > asked ? e->license.revision : asked;
}

int storage_activation_seen(Storage *s, int64_t id, uint32_t revision, int64_t now, CoreError *err) {
        return s->backend->activation_seen(s, id, revision, now, err);
}

int storage_activation_release(Storage *s, int64_t id, const char *proof_nonce, int64_t now,
                               CoreError *err) {
        return s->backend->activation_release(s, id, proof_nonce, now, err);
}

int storage_release_machine(Storage *s, const char *key, const char *machine_id, int64_t now,
                            unsigned *ret_n, CoreError *err) {
        return s->backend->release_machine(s, key, machine_id, now, ret_n, err);
}

int storage_portal_release(Storage *s, const PortalReleaseClaim *c, unsigned *ret_n, int64_t *ret_oldest,
                           CoreError *err) {
        return s->backend->portal_release(s, c, ret_n, ret_oldest, err);
}

int storage_portal_releases(Storage *s, const char *key, int64_t since, unsigned *ret_n, int64_t *ret_oldest,
                            CoreError *err) {
        return s->backend->portal_releases(s, key, since, ret_n, ret_oldest, err);
}

int storage_entitlement_check(Entitlement *e, const char *features, const char *properties, CoreError *err) {
        License *l = &e->license;
        int r;

        if (!l->product || !l->licensee || l->type < 0)
                return core_error_set(err, EBADMSG,
                                      "database: entitlement %s has a bad product, licensee or type", e->key);
        r = storage_features_from_json(l, features, properties, err);
        if (r < 0)
                core_error_prefix(err, "database: entitlement %s: ", e->key);
        return r;
}

/* The seat logic's checks ------------------------------------------------------- */

int storage_activation_checks(const ActivationClaim *c, const Entitlement *e, bool has_seat, CoreError *err) {
        if (!streq(e->license.product, c->product))
                return STORAGE_ANSWER(err, STORAGE_WRONG_PRODUCT, "the license key is for %s, not for %s",
                                      e->license.product, c->product);
        if (e->revoked)
                return STORAGE_ANSWER(err, STORAGE_REVOKED, "the license key has been revoked by the vendor");
        if (!has_seat && e->active >= e->seats)
                return STORAGE_ANSWER(err, STORAGE_NO_SEAT,
                                      "seat limit reached: %" PRIu32 " of %" PRIu32 " machines are active; "
                                      "deactivate one or ask the vendor",
                                      e->active, e->seats);
        return STORAGE_OK;
}

int storage_trial_offer(Storage *s, const char *product, char key[static LICENSE_KEY_STRING_SIZE],
                        CoreError *err) {
        return s->backend->trial_offer(s, product, key, err);
}

int storage_trial_reset(Storage *s, const char *product, const char *machine_id, const char *hardware_id,
                        int64_t now, unsigned *ret_trials, unsigned *ret_released, CoreError *err) {
        assert(machine_id || hardware_id);
        return s->backend->trial_reset(s, product, machine_id, hardware_id, now, ret_trials, ret_released, err);
}

int storage_deactivation_allowed(Storage *s, const char *key, int64_t now, CoreError *err) {
        _cleanup_(entitlement_done) Entitlement e = ENTITLEMENT_INIT;
        char day[RFC3339_MAX];
        int r;

        r = storage_entitlement_get(s, key, &e, err);
        if (r < 0)
                return r;
        if (!e.deactivation_requires_maintenance || e.license.maintenance_until == TIME_UNSET ||
            e.license.maintenance_until > now)
                return 0;
        /* The day is what a person remembers of a maintenance contract. */
        time_format_rfc3339(e.license.maintenance_until, day);
        day[10] = 0;
        return core_error_set(err, EPERM, "Deactivation needs active maintenance; it ended on %s.", day);
}

int storage_not_a_key(const char *key, CoreError *err) {
        return STORAGE_ANSWER(err, STORAGE_UNKNOWN_KEY, "the license key %s is not known to this server", key);
}

int storage_trial_used(int64_t started, const char *product, CoreError *err) {
        char when[RFC3339_MAX];

        return STORAGE_ANSWER(err, STORAGE_TRIAL_USED,
                              "this machine had its trial of %s already: it started on %s, and there is one "
                              "trial per machine; ask the vendor for a license key",
                              product, time_format_rfc3339(started, when));
}

int storage_trial_reset_none(const char *product, const char *machine_id, const char *hardware_id,
                             CoreError *err) {
        if (!hardware_id)
                return core_error_set(err, ENOENT,
                                      "no trial of %s was started with the machine id %s (a machine refused "
                                      "after a reinstall is found by its hardware id)",
                                      product, machine_id);
        if (!machine_id)
                return core_error_set(err, ENOENT, "no trial of %s was started with the hardware id %s", product,
                                      hardware_id);
        return core_error_set(err, ENOENT, "no trial of %s was started with the machine id %s or the hardware id %s",
                              product, machine_id, hardware_id);
}

int storage_validation_checks(const ValidationClaim *c, const Activation *a, const Entitlement *e,
                              CoreError *err) {
        if (!streq(a->machine_id, c->machine_id) || !streq(a->device_key, c->device_key))
                return STORAGE_ANSWER(err, STORAGE_WRONG_MACHINE, "the license %s is bound to another machine",
                                      a->license_id);
        if (!streq(e->license.product, c->product))
                return STORAGE_ANSWER(err, STORAGE_WRONG_PRODUCT, "the license %s is for %s, not for %s",
                                      a->license_id, e->license.product, c->product);
        return STORAGE_OK;
}

/* Features and properties as JSON -------------------------------------------- */

int storage_features_to_json(const License *l, char **ret_features, char **ret_properties) {
        json_object *o = license_to_json(l);
        char *f, *p;

        if (!o)
                return -ENOMEM;
        f = strdup(json_object_to_json_string_ext(json_object_object_get(o, "features"),
                                                  JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
        p = strdup(json_object_to_json_string_ext(json_object_object_get(o, "properties"),
                                                  JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
        json_object_put(o);
        if (!f || !p) {
                free(f);
                free(p);
                return -ENOMEM;
        }
        *ret_features = f;
        *ret_properties = p;
        return 0;
}

int storage_features_from_json(License *l, const char *features, const char *properties, CoreError *err) {
        json_object *f = json_tokener_parse(features ?: ""), *p = json_tokener_parse(properties ?: "");
        int r = 0;

        if (!json_object_is_type(f, json_type_array) || !json_object_is_type(p, json_type_object))
                r = core_error_set(err, EBADMSG,
                                   "features or properties are not JSON of the expected shape");
        for (size_t i = 0; r >= 0 && i < json_object_array_length(f); i++) {
                json_object *e = json_object_array_get_idx(f, i), *v;
                int64_t expires = TIME_UNSET, limit = 0;

                if (json_object_object_get_ex(e, "expires", &v))
                        r = time_parse_rfc3339(json_object_get_string(v), &expires, err);
                if (json_object_object_get_ex(e, "limit", &v))
                        limit = json_object_get_int64(v);
                if (r >= 0 && (limit < 0 || limit > UINT32_MAX))
                        r = core_error_set(err, EBADMSG, "bad feature limit");
                if (r >= 0)
                        r = license_add_feature(l, json_object_get_string(json_object_object_get(e, "name")),
                                                expires, (uint32_t) limit, err);
        }
        if (r >= 0) {
                json_object_object_foreach(p, name, value) {
                        r = license_set_property(l, name, json_object_get_string(value), err);
                        if (r < 0)
                                break;
                }
        }
        json_object_put(f);
        json_object_put(p);
        return r;
}


/* The admin API ----------------------------------------------------------------- */

int storage_entitlement_query(Storage *s, const EntitlementQuery *q, Entitlement **ret, size_t *ret_n,
                              CoreError *err) {
        return s->backend->entitlement_query(s, q, ret, ret_n, err);
}

void product_summary_array_free(ProductSummary *p, size_t n) {
        for (size_t i = 0; i < n; i++)
                free(p[i].product);
        free(p);
}

int storage_product_list(Storage *s, ProductSummary **ret, size_t *ret_n, CoreError *err) {
        return s->backend->product_list(s, ret, ret_n, err);
}

void token_done(Token *t) {
        if (!t)
                return;
        free(t->name);
        *t = (Token){};
}

void token_array_free(Token *t, size_t n) {
        for (size_t i = 0; i < n; i++)
                token_done(&t[i]);
        free(t);
}

static const char *const token_scopes[_TOKEN_SCOPE_MAX] = {
        [TOKEN_SCOPE_READ] = "read",
        [TOKEN_SCOPE_WRITE] = "write",
};

const char *token_scope_to_string(TokenScope s) {
        return s >= 0 && s < _TOKEN_SCOPE_MAX ? token_scopes[s] : NULL;
}

TokenScope token_scope_from_string(const char *s) {
        for (int i = 0; s && i < _TOKEN_SCOPE_MAX; i++)
                if (streq(token_scopes[i], s))
                        return (TokenScope) i;
        return (TokenScope) -EINVAL;
}

int storage_token_create(Storage *s, const Token *t, CoreError *err) {
        return s->backend->token_create(s, t, err);
}

int storage_token_list(Storage *s, Token **ret, size_t *ret_n, CoreError *err) {
        return s->backend->token_list(s, ret, ret_n, err);
}

int storage_token_revoke(Storage *s, const char *name, int64_t now, CoreError *err) {
        return s->backend->token_revoke(s, name, now, err);
}

int storage_token_use(Storage *s, const char *hash, int64_t now, Token *ret, CoreError *err) {
        return s->backend->token_use(s, hash, now, ret, err);
}
