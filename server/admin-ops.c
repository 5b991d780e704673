/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The admin operations on the database, JSON in and out (admin-ops.h).
 * Input is checked here, once, for the HTTP API and licensed-vendor alike;
 * the license fields take the syntax of 'licensed-vendor issue'
 * (license-field.h). */

#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "admin-ops.h"
#include "base64.h"
#include "json-object.h"
#include "license-field.h"
#include "license-json.h"
#include "license-key.h"
#include "request.h"
#include "text-check.h"
#include "timeutil.h"

/* Records as JSON ------------------------------------------------------------ */

void admin_json_add_time(json_object *o, const char *name, int64_t t) {
        char buf[RFC3339_MAX];

        json_object_object_add(o, name,
                               t != TIME_UNSET ? json_object_new_string(time_format_rfc3339(t, buf)) : NULL);
}

json_object *entitlement_to_json(const Entitlement *e) {
        json_object *o = license_to_json(&e->license);

        json_object_object_add(o, "license_key", json_object_new_string(e->key));
        json_object_object_add(o, "seats", json_object_new_int64(e->seats));
        json_object_object_add(o, "active", json_object_new_int64(e->active));
        json_object_object_add(o, "revoked", json_object_new_boolean(e->revoked));
        json_object_object_add(o, "trial_days", json_object_new_int64(e->trial_days));
        json_object_object_add(o, "deactivation_requires_maintenance",
                               json_object_new_boolean(e->deactivation_requires_maintenance));
        admin_json_add_time(o, "created", e->created);
        admin_json_add_time(o, "updated", e->updated);
        return o;
}

json_object *activation_to_json(const Activation *a) {
        json_object *o = json_object_new_object();

        json_object_object_add(o, "license_id", json_object_new_string(a->license_id));
        json_object_object_add(o, "license_key", json_object_new_string(a->key));
        json_object_object_add(o, "machine_id", json_object_new_string(a->machine_id));
        json_object_object_add(o, "device_key", json_object_new_string(a->device_key));
        json_object_object_add(o, "hostname", a->hostname ? json_object_new_string(a->hostname) : NULL);
        json_object_object_add(o, "revision", json_object_new_int64(a->revision));
        admin_json_add_time(o, "activated", a->activated);
        admin_json_add_time(o, "last_seen", a->last_seen);
        admin_json_add_time(o, "released", a->released);
        json_object_object_add(o, "active", json_object_new_boolean(a->released == TIME_UNSET));
        return o;
}

/* Input ------------------------------------------------------------------------ */

static int canonical_key(const char *typed, char out[static LICENSE_KEY_STRING_SIZE], CoreError *err) {
        if (!typed)
                return core_error_set(err, EINVAL, "a license key is required");
        return license_key_normalize(typed, out, err);
}

/* A member that is a string or absent (NULL). */
static int get_string(json_object *in, const char *name, const char **ret, CoreError *err) {
        int r = json_get_string(in, name, false, ret, err);
        return r < 0 ? core_error_set(err, EINVAL, "\"%s\" must be a string", name) : 0;
}

/* A whole number from min to max, given as a JSON integer or (a query
 * parameter) a string of digits; *ret unchanged when absent. */
static int get_uint(json_object *in, const char *name, uint64_t min, uint64_t max, uint64_t *ret, CoreError *err) {
        json_object *v;
        uint64_t n;

        if (!json_object_object_get_ex(in, name, &v) || !v)
                return 0;
        if (json_object_is_type(v, json_type_int) && json_object_get_int64(v) >= 0)
                n = (uint64_t) json_object_get_int64(v);
        else if (json_object_is_type(v, json_type_string)) {
                const char *s = json_object_get_string(v);
                char *end;

                errno = 0;
                n = strtoull(s, &end, 10);
                if (errno || !*s || *end || *s == '-' || *s == '+')
                        n = max + 1;
        } else
                n = max + 1;
        if (n < min || n > max)
                return core_error_set(err, EINVAL, "\"%s\" must be a whole number from %" PRIu64 " to %" PRIu64,
                                      name, min, max);
        *ret = n;
        return 0;
}

/* A member that is true or false; *ret unchanged when absent. */
static int get_bool(json_object *in, const char *name, bool *ret, CoreError *err) {
        json_object *v;

        if (!json_object_object_get_ex(in, name, &v) || !v)
                return 0;
        if (!json_object_is_type(v, json_type_boolean))
                return core_error_set(err, EINVAL, "\"%s\" must be true or false", name);
        *ret = json_object_get_boolean(v);
        return 0;
}

/* The two policies of an entitlement beyond its license (create and
 * upgrade): "deactivation_requires_maintenance", and "trial_days", which
 * makes it its product's trial offer and wants a trial type. */
static int apply_policies(Entitlement *e, json_object *in, CoreError *err) {
        uint64_t days = e->trial_days;
        int r;

        r = get_bool(in, "deactivation_requires_maintenance", &e->deactivation_requires_maintenance, err);
        if (r >= 0)
                r = get_uint(in, "trial_days", 1, ADMIN_TRIAL_DAYS_MAX, &days, err);
        if (r < 0)
                return r;
        if (days > 0 && e->license.type != LICENSE_TRIAL)
                return core_error_set(err, EINVAL, "a trial offer (\"trial_days\") must have the type trial, not %s",
                                      license_type_to_string(e->license.type));
        if (days > 0 && e->license.not_after != TIME_UNSET)
                return core_error_set(err, EINVAL,
                                      "a trial offer has no \"not_after\": each machine's trial ends "
                                      "\"trial_days\" after it started");
        e->trial_days = (uint32_t) days;
        return 0;
}

/* Rejects members of in not in allowed (NULL-terminated): a typo is an
 * error, not a silently ignored change (or, in the query string of a GET,
 * a filter silently not applied). */
static const char *const no_members[] = {NULL};

static int check_members(json_object *in, const char *const *allowed, CoreError *err) {
        if (!in)
                return 0;
        json_object_object_foreach(in, name, value) {
                bool ok = false;

                (void) value;
                for (size_t i = 0; allowed[i] && !ok; i++)
                        ok = streq(allowed[i], name);
                if (!ok)
                        return core_error_set(err, EINVAL, "unknown member \"%s\"", name);
        }
        return 0;
}

/* features: [spec, ...] */
static int apply_features(License *l, json_object *in, CoreError *err) {
        json_object *a;
        int r;

        if (!json_object_object_get_ex(in, "features", &a) || !a)
                return 0;
        if (!json_object_is_type(a, json_type_array))
                return core_error_set(err, EINVAL, "\"features\" must be an array of strings NAME[:limit=N,expires=TIME]");
        for (size_t i = 0; i < json_object_array_length(a); i++) {
                json_object *f = json_object_array_get_idx(a, i);
                const char *spec = json_object_get_string(f);

                if (!json_object_is_type(f, json_type_string))
                        return core_error_set(err, EINVAL, "\"features\" must be an array of strings");
                /* A feature of that name is replaced (a new limit, say). */
                for (size_t k = 0; k < l->n_features; k++)
                        if (strlen(l->features[k].name) == strcspn(spec, ":") &&
                            strncmp(l->features[k].name, spec, strcspn(spec, ":")) == 0) {
                                free(l->features[k].name);
                                memmove(l->features + k, l->features + k + 1,
                                        (l->n_features - k - 1) * sizeof(*l->features));
                                l->n_features--;
                                break;
                        }
                r = license_field_apply(l, LICENSE_FIELD_FEATURE, spec, err);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* properties: {name: value, ...} */
static int apply_properties(License *l, json_object *in, CoreError *err) {
        json_object *p;
        int r;

        if (!json_object_object_get_ex(in, "properties", &p) || !p)
                return 0;
        if (!json_object_is_type(p, json_type_object))
                return core_error_set(err, EINVAL, "\"properties\" must be an object of strings");
        json_object_object_foreach(p, name, value) {
                if (!json_object_is_type(value, json_type_string))
                        return core_error_set(err, EINVAL, "property \"%s\" must be a string", name);
                r = license_set_property(l, name, json_object_get_string(value), err);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* The scalar fields of names (NULL-terminated) that in has. */
static int apply_fields(License *l, json_object *in, const char *const *names, CoreError *err) {
        for (size_t i = 0; names[i]; i++) {
                const char *v;
                int r;

                r = get_string(in, names[i], &v, err);
                if (r >= 0 && v)
                        r = license_field_apply_named(l, names[i], v, err);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* Checks an entitlement's template as the license it will become: what
 * 'licensed-vendor issue' checks before signing. */
/* trial_days > 0: a trial offer, whose not-after each machine's license
 * gets when it is signed (server-trial.c); checked with the first one's. */
static int check_template(License *l, uint32_t trial_days, CoreError *err) {
        _cleanup_(license_done) License check = LICENSE_INIT;
        _cleanup_free_ char *body = NULL;
        size_t body_len;
        int r;

        if (!l->product)
                return core_error_set(err, EINVAL, "a product is required");
        if (!l->licensee)
                return core_error_set(err, EINVAL, "a licensee is required");
        l->id = strdup("entitlement");
        if (!l->id)
                return -ENOMEM;
        l->issued = now_realtime();
        if (trial_days > 0)
                l->not_after = l->issued + (int64_t) trial_days * SEC_PER_DAY;
        r = license_format_body(l, &body, &body_len);
        if (r < 0)
                r = core_error_set(err, EINVAL, "the license fields are not valid (check the product id and the other fields)");
        else
                r = license_parse_body((const uint8_t *) body, body_len, &check, err);
        free(l->id);
        l->id = NULL;
        l->issued = TIME_UNSET;
        if (trial_days > 0)
                l->not_after = TIME_UNSET;
        return r < 0 ? (r == -ENOMEM ? r : -EINVAL) : 0;
}

static int reply_entitlement(Storage *s, const char *key, json_object **ret, CoreError *err) {
        _cleanup_(entitlement_done) Entitlement e = ENTITLEMENT_INIT;
        int r;

        r = storage_entitlement_get(s, key, &e, err);
        if (r < 0)
                return r;
        *ret = entitlement_to_json(&e);
        return 0;
}

/* Entitlements ------------------------------------------------------------------ */

/* The cursor is the position of the last entitlement returned,
 * "CREATED KEY" in base64: opaque to the client, stable under inserts. */
static int cursor_encode(const Entitlement *e, char **ret) {
        char text[64 + LICENSE_KEY_STRING_SIZE];
        int n = snprintf(text, sizeof(text), "%" PRId64 " %s", e->created, e->key);

        *ret = base64_encode((const uint8_t *) text, (size_t) n);
        return *ret ? 0 : -ENOMEM;
}

static int cursor_decode(const char *cursor, int64_t *ret_created, char key[static LICENSE_KEY_STRING_SIZE],
                         CoreError *err) {
        _cleanup_free_ uint8_t *raw = NULL;
        _cleanup_free_ char *text = NULL;
        size_t len = 0;
        char *space, *end;

        if (base64_decode(cursor, strlen(cursor), &raw, &len, NULL) < 0 || len > 200)
                return core_error_set(err, EINVAL, "\"cursor\" is not a cursor this server gave");
        text = strndup((const char *) raw, len);
        if (!text)
                return -ENOMEM;
        space = strchr(text, ' ');
        if (!space || strlen(text) != len)
                return core_error_set(err, EINVAL, "\"cursor\" is not a cursor this server gave");
        *space = 0;
        errno = 0;
        *ret_created = strtoll(text, &end, 10);
        if (errno || *end || !*text || license_key_normalize(space + 1, key, NULL) < 0)
                return core_error_set(err, EINVAL, "\"cursor\" is not a cursor this server gave");
        return 0;
}

int admin_entitlement_list(Storage *s, const char *key, json_object *in, json_object **ret, CoreError *err) {
        static const char *const allowed[] = {"product", "state", "licensee", "cursor", "limit", NULL};
        EntitlementQuery q = {};
        char after_key[LICENSE_KEY_STRING_SIZE];
        const char *state = NULL, *cursor = NULL;
        uint64_t limit = ADMIN_LIST_LIMIT_DEFAULT;
        Entitlement *list = NULL;
        json_object *o, *a;
        size_t n = 0;
        int r;

        r = check_members(in, allowed, err);
        if (r >= 0)
                r = get_string(in, "product", &q.product, err);
        if (r >= 0)
                r = get_string(in, "licensee", &q.licensee, err);
        if (r >= 0)
                r = get_string(in, "state", &state, err);
        if (r >= 0)
                r = get_string(in, "cursor", &cursor, err);
        if (r >= 0)
                r = get_uint(in, "limit", 1, ADMIN_LIST_LIMIT_MAX, &limit, err);
        if (r < 0)
                return r;
        if (!state)
                q.state = ENTITLEMENT_STATE_ANY;
        else if (streq(state, "active"))
                q.state = ENTITLEMENT_STATE_ACTIVE;
        else if (streq(state, "revoked"))
                q.state = ENTITLEMENT_STATE_REVOKED;
        else
                return core_error_set(err, EINVAL, "\"state\" must be active or revoked, not '%s'", state);
        if (cursor) {
                r = cursor_decode(cursor, &q.after_created, after_key, err);
                if (r < 0)
                        return r;
                q.after_key = after_key;
        }
        /* One more than asked for: whether there is a next page. */
        q.limit = (size_t) limit + 1;
        r = storage_entitlement_query(s, &q, &list, &n, err);
        if (r < 0)
                return r;

        o = json_object_new_object();
        a = json_object_new_array();
        for (size_t i = 0; i < n && i < limit; i++)
                json_object_array_add(a, entitlement_to_json(&list[i]));
        json_object_object_add(o, "entitlements", a);
        if (n > limit) {
                _cleanup_free_ char *next = NULL;

                r = cursor_encode(&list[limit - 1], &next);
                if (r >= 0)
                        json_object_object_add(o, "next_cursor", json_object_new_string(next));
        } else
                json_object_object_add(o, "next_cursor", NULL);
        entitlement_array_free(list, n);
        if (r < 0) {
                json_object_put(o);
                return r;
        }
        *ret = o;
        return 0;
}

int admin_entitlement_create(Storage *s, const char *key, json_object *in, json_object **ret, CoreError *err) {
        static const char *const fields[] = {"product", "licensee", "type", "not_before", "not_after",
                                              "maintenance_until", "validation_interval", "grace_period",
                                              "server_url", NULL};
        static const char *const allowed[] = {"product", "licensee", "type", "not_before", "not_after",
                                              "maintenance_until", "validation_interval", "grace_period",
                                              "server_url", "seats", "license_key", "features",
                                              "properties", "trial_days", "deactivation_requires_maintenance",
                                              NULL};
        _cleanup_(entitlement_done) Entitlement e = ENTITLEMENT_INIT;
        const char *typed = NULL;
        uint64_t seats = 1;
        int r;

        e.license.type = LICENSE_PERPETUAL;
        e.license.revision = 1;
        r = check_members(in, allowed, err);
        if (r >= 0)
                r = get_uint(in, "seats", 1, ADMIN_SEATS_MAX, &seats, err);
        if (r >= 0)
                r = get_string(in, "license_key", &typed, err);
        if (r >= 0)
                r = apply_fields(&e.license, in, fields, err);
        if (r >= 0)
                r = apply_features(&e.license, in, err);
        if (r >= 0)
                r = apply_properties(&e.license, in, err);
        if (r >= 0)
                r = apply_policies(&e, in, err);
        if (r >= 0)
                r = check_template(&e.license, e.trial_days, err);
        if (r >= 0)
                r = typed ? license_key_normalize(typed, e.key, err) : license_key_generate(e.key);
        if (r < 0)
                return r == -ENOMEM ? r : -EINVAL;
        e.seats = (uint32_t) seats;
        r = storage_entitlement_create(s, &e, err);
        if (r < 0)
                return r;
        return reply_entitlement(s, e.key, ret, err);
}

int admin_entitlement_show(Storage *s, const char *key, json_object *in, json_object **ret, CoreError *err) {
        char canonical[LICENSE_KEY_STRING_SIZE];
        int r;

        r = canonical_key(key, canonical, err);
        if (r >= 0)
                r = check_members(in, no_members, err);
        if (r < 0)
                return -EINVAL;
        return reply_entitlement(s, canonical, ret, err);
}

int admin_entitlement_upgrade(Storage *s, const char *key, json_object *in, json_object **ret, CoreError *err) {
        static const char *const fields[] = {"licensee", "not_after", "maintenance_until", NULL};
        static const char *const allowed[] = {"revision", "seats", "licensee", "not_after", "maintenance_until",
                                              "features", "remove_features", "properties", "trial_days",
                                              "deactivation_requires_maintenance", NULL};
        _cleanup_(entitlement_done) Entitlement e = ENTITLEMENT_INIT;
        char canonical[LICENSE_KEY_STRING_SIZE];
        uint64_t seats = 0, revision = 0;
        json_object *rm;
        int r;

        r = canonical_key(key, canonical, err);
        if (r >= 0)
                r = check_members(in, allowed, err);
        if (r >= 0)
                r = get_uint(in, "seats", 1, ADMIN_SEATS_MAX, &seats, err);
        if (r >= 0)
                r = get_uint(in, "revision", 1, UINT32_MAX, &revision, err);
        if (r < 0)
                return -EINVAL;
        if (!in || json_object_object_length(in) == 0 ||
            (json_object_object_length(in) == 1 && json_object_object_get_ex(in, "revision", NULL)))
                return core_error_set(err, EINVAL, "nothing to change");
        r = storage_entitlement_get(s, canonical, &e, err);
        if (r < 0)
                return r;
        if (revision > 0 && revision != e.license.revision)
                return core_error_set(err, ESTALE, "the entitlement %s is at revision %" PRIu32 ", not %" PRIu64,
                                      canonical, e.license.revision, revision);

        if (json_object_object_get_ex(in, "remove_features", &rm) && rm) {
                if (!json_object_is_type(rm, json_type_array))
                        return core_error_set(err, EINVAL, "\"remove_features\" must be an array of names");
                for (size_t i = 0; i < json_object_array_length(rm); i++) {
                        json_object *f = json_object_array_get_idx(rm, i);
                        const char *name = json_object_get_string(f);
                        size_t k;

                        /* Not a name is a bad request, not a feature 5 or
                         * '{ "a": 1 }' the key lacks. */
                        if (!json_object_is_type(f, json_type_string))
                                return core_error_set(err, EINVAL, "\"remove_features\" must be an array of names");
                        for (k = 0; k < e.license.n_features; k++)
                                if (streq(e.license.features[k].name, name))
                                        break;
                        if (k == e.license.n_features)
                                return core_error_set(err, ENOENT, "the key has no feature '%s'", name);
                        free(e.license.features[k].name);
                        memmove(e.license.features + k, e.license.features + k + 1,
                                (e.license.n_features - k - 1) * sizeof(*e.license.features));
                        e.license.n_features--;
                }
        }
        r = apply_features(&e.license, in, err);
        if (r >= 0)
                r = apply_properties(&e.license, in, err);
        if (r >= 0)
                r = apply_fields(&e.license, in, fields, err);
        if (r >= 0)
                r = apply_policies(&e, in, err);
        if (r >= 0)
                r = check_template(&e.license, e.trial_days, err);
        if (r < 0)
                return r == -ENOMEM ? r : -EINVAL;
        if (seats > 0)
                e.seats = (uint32_t) seats;
        r = storage_entitlement_upgrade(s, &e, err);
        if (r < 0)
                return r;
        return reply_entitlement(s, canonical, ret, err);
}

int admin_entitlement_revoke(Storage *s, const char *key, json_object *in, json_object **ret, CoreError *err) {
        char canonical[LICENSE_KEY_STRING_SIZE];
        int r;

        r = canonical_key(key, canonical, err);
        if (r >= 0)
                r = check_members(in, no_members, err);
        if (r < 0)
                return -EINVAL;
        r = storage_entitlement_revoke(s, canonical, err);
        if (r < 0)
                return r;
        return reply_entitlement(s, canonical, ret, err);
}

/* Activations ---------------------------------------------------------------- */

int admin_activation_list(Storage *s, const char *key, json_object *in, json_object **ret, CoreError *err) {
        _cleanup_(entitlement_done) Entitlement e = ENTITLEMENT_INIT;
        char canonical[LICENSE_KEY_STRING_SIZE];
        Activation *list = NULL;
        json_object *o, *a;
        size_t n = 0;
        int r;

        r = check_members(in, no_members, err);
        if (r < 0)
                return r;
        if (key) {
                r = canonical_key(key, canonical, err);
                if (r < 0)
                        return -EINVAL;
                /* An unknown key is a 404, not an empty list. */
                r = storage_entitlement_get(s, canonical, &e, err);
                if (r < 0)
                        return r;
        }
        r = storage_activation_list(s, key ? canonical : NULL, &list, &n, err);
        if (r < 0)
                return r;
        o = json_object_new_object();
        a = json_object_new_array();
        for (size_t i = 0; i < n; i++)
                json_object_array_add(a, activation_to_json(&list[i]));
        json_object_object_add(o, "activations", a);
        activation_array_free(list, n);
        *ret = o;
        return 0;
}

/* The machine a deactivation proof names, checked to hold a seat of key;
 * the proof's nonce is recorded so that it works once. */
static int release_by_proof(Storage *s, const char *key, const char *proof, int64_t now, Activation *a,
                            CoreError *err) {
        _cleanup_(machine_request_done) MachineRequest req = MACHINE_REQUEST_INIT;
        int r;

        r = machine_request_verify(proof, strlen(proof), MACHINE_REQUEST_DEACTIVATION, &req, err);
        if (r < 0)
                return r == -EKEYREJECTED || r == -ENOKEY ? -EKEYREJECTED : -EINVAL;
        r = storage_activation_get(s, req.license_id, a, err);
        if (r < 0)
                return r;
        if (r > STORAGE_OK || !streq(a->key, key))
                return core_error_set(err, ENOENT, "the proof is for license %s, which is not an activation of %s",
                                      req.license_id, key);
        if (!streq(a->machine_id, req.machine_id) || !streq(a->device_key, req.device_key))
                return core_error_set(err, EINVAL, "the license %s is bound to another machine", a->license_id);
        /* The machine's own deactivation, only carried by the vendor: the
         * entitlement's policy holds as online (release by machine id,
         * for a lost machine, is not bound by it). */
        r = storage_deactivation_allowed(s, key, now, err);
        if (r < 0)
                return r;
        r = storage_activation_release(s, a->id, req.nonce, now, err);
        if (r < 0)
                return r;
        if (r == STORAGE_PROOF_USED)
                return -EALREADY;
        return 0;
}

int admin_release(Storage *s, const char *key, json_object *in, json_object **ret, CoreError *err) {
        static const char *const allowed[] = {"machine_id", "proof", NULL};
        _cleanup_(activation_done) Activation a = {};
        char canonical[LICENSE_KEY_STRING_SIZE];
        const char *machine_id = NULL, *proof = NULL;
        unsigned n = 1;
        json_object *o;
        int r;

        r = canonical_key(key, canonical, err);
        if (r >= 0)
                r = check_members(in, allowed, err);
        if (r >= 0)
                r = get_string(in, "machine_id", &machine_id, err);
        if (r >= 0)
                r = get_string(in, "proof", &proof, err);
        if (r < 0)
                return -EINVAL;
        if (!machine_id == !proof)
                return core_error_set(err, EINVAL, "give either \"machine_id\" or \"proof\" (a deactivation proof)");
        if (proof) {
                r = release_by_proof(s, canonical, proof, now_realtime(), &a, err);
                machine_id = a.machine_id;
        } else
                r = storage_release_machine(s, canonical, machine_id, now_realtime(), &n, err);
        if (r < 0)
                return r;
        o = json_object_new_object();
        json_object_object_add(o, "license_key", json_object_new_string(canonical));
        json_object_object_add(o, "machine_id", json_object_new_string(machine_id));
        json_object_object_add(o, "released", json_object_new_int64(n));
        *ret = o;
        return 0;
}

/* A member that is an id of 32 lower-case hex digits, or absent (NULL). */
static int get_hex_id(json_object *in, const char *name, const char **ret, CoreError *err) {
        int r = get_string(in, name, ret, err);

        if (r >= 0 && *ret && !hex_is_valid(*ret, MACHINE_ID_HEX_LEN))
                return core_error_set(err, EINVAL, "\"%s\" must be %d lower-case hex digits", name,
                                      MACHINE_ID_HEX_LEN);
        return r;
}

int admin_trial_reset(Storage *s, const char *key, json_object *in, json_object **ret, CoreError *err) {
        static const char *const allowed[] = {"product", "machine_id", "hardware_id", NULL};
        const char *product = NULL, *machine_id = NULL, *hardware_id = NULL;
        unsigned trials = 0, released = 0;
        json_object *o;
        int r;

        r = check_members(in, allowed, err);
        if (r >= 0)
                r = get_string(in, "product", &product, err);
        if (r >= 0 && !product)
                r = core_error_set(err, EINVAL, "\"product\" is required");
        if (r >= 0 && !product_id_is_valid(product))
                r = core_error_set(err, EINVAL, "\"product\" is not a product id (1-128 of a-z 0-9 . _ -)");
        if (r >= 0)
                r = get_hex_id(in, "machine_id", &machine_id, err);
        if (r >= 0)
                r = get_hex_id(in, "hardware_id", &hardware_id, err);
        if (r >= 0 && !machine_id && !hardware_id)
                r = core_error_set(err, EINVAL, "give \"machine_id\" or \"hardware_id\" (or both) of the machine");
        if (r < 0)
                return -EINVAL;
        r = storage_trial_reset(s, product, machine_id, hardware_id, now_realtime(), &trials, &released, err);
        if (r < 0)
                return r;
        o = json_object_new_object();
        json_object_object_add(o, "product", json_object_new_string(product));
        json_object_object_add(o, "machine_id", machine_id ? json_object_new_string(machine_id) : NULL);
        json_object_object_add(o, "hardware_id", hardware_id ? json_object_new_string(hardware_id) : NULL);
        json_object_object_add(o, "trials", json_object_new_int64(trials));
        json_object_object_add(o, "released", json_object_new_int64(released));
        *ret = o;
        return 0;
}

int admin_product_list(Storage *s, const char *key, json_object *in, json_object **ret, CoreError *err) {
        ProductSummary *list = NULL;
        json_object *o, *a;
        size_t n = 0;
        int r;

        r = check_members(in, no_members, err);
        if (r < 0)
                return r;
        r = storage_product_list(s, &list, &n, err);
        if (r < 0)
                return r;
        o = json_object_new_object();
        a = json_object_new_array();
        for (size_t i = 0; i < n; i++) {
                json_object *p = json_object_new_object();

                json_object_object_add(p, "product", json_object_new_string(list[i].product));
                json_object_object_add(p, "entitlements", json_object_new_int64(list[i].entitlements));
                json_object_object_add(p, "active", json_object_new_int64(list[i].active));
                json_object_array_add(a, p);
        }
        json_object_object_add(o, "products", a);
        product_summary_array_free(list, n);
        *ret = o;
        return 0;
}
