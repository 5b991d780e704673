/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <inttypes.h>
#include <stddef.h>

#include "fields.h"
#include "license.h"
#include "string-table.h"
#include "text-check.h"
#include "timeutil.h"

#define LICENSE_KIND "LICENSE"

static const char *const license_type_table[_LICENSE_TYPE_MAX] = {
        [LICENSE_PERPETUAL] = "perpetual",
        [LICENSE_SUBSCRIPTION] = "subscription",
        [LICENSE_TRIAL] = "trial",
        [LICENSE_FLOATING] = "floating",
};

DEFINE_STRING_TABLE_LOOKUP(license_type, LicenseType);

void license_init(License *l) {
        *l = (License) {
                .type = _LICENSE_TYPE_INVALID,
                .validation_interval = -1,
                .grace_period = -1,
        };
}

void license_done(License *l) {
        if (!l)
                return;
        if (l->arena) {
                free(l->arena);
                license_init(l);
                return;
        }
        for (size_t i = 0; i < l->n_features; i++)
                free(l->features[i].name);
        for (size_t i = 0; i < l->n_properties; i++) {
                free(l->properties[i].name);
                free(l->properties[i].value);
        }
        free(l->features);
        free(l->properties);
        free(l->id);
        free(l->product);
        free(l->licensee);
        free(l->key);
        free(l->machine_id);
        free(l->device_key);
        free(l->nonce);
        free(l->server_url);
        license_init(l);
}

/* The string members of l, for license_compact(); features and properties
 * at their new place. Returns how many. */
static size_t string_slots(License *l, char ***slots) {
        size_t n = 0;

        slots[n++] = &l->id;
        slots[n++] = &l->product;
        slots[n++] = &l->licensee;
        slots[n++] = &l->key;
        slots[n++] = &l->machine_id;
        slots[n++] = &l->device_key;
        slots[n++] = &l->nonce;
        slots[n++] = &l->server_url;
        for (size_t i = 0; i < l->n_features; i++)
                slots[n++] = &l->features[i].name;
        for (size_t i = 0; i < l->n_properties; i++) {
                slots[n++] = &l->properties[i].name;
                slots[n++] = &l->properties[i].value;
        }
        return n;
}

static const char *shared_string(const char *s, const char *const *shared) {
        for (size_t i = 0; s && shared && shared[i]; i++)
                if (streq(s, shared[i]))
                        return shared[i];
        return NULL;
}

int license_compact(License *l, const char *const *shared) {
        size_t features_size = l->n_features * sizeof(LicenseFeature),
               properties_size = l->n_properties * sizeof(LicenseProperty), size, off, n;
        _cleanup_free_ char ***slots = NULL;
        LicenseFeature *old_features = l->features;
        LicenseProperty *old_properties = l->properties;
        char *arena;

        assert(l);
        if (l->arena)
                return 0;
        slots = calloc(8 + l->n_features + 2 * l->n_properties, sizeof(char **));
        if (!slots)
                return -ENOMEM;
        /* Arrays first (pointer-aligned, malloc's alignment), strings after. */
        size = features_size + properties_size;
        n = string_slots(l, slots);
        for (size_t i = 0; i < n; i++)
                if (*slots[i] && !shared_string(*slots[i], shared))
                        size += strlen(*slots[i]) + 1;
        arena = malloc(size ?: 1);
        if (!arena)
                return -ENOMEM;

        l->features = features_size ? memcpy(arena, old_features, features_size) : NULL;
        l->properties = properties_size ? memcpy(arena + features_size, old_properties, properties_size) : NULL;
        off = features_size + properties_size;
        n = string_slots(l, slots); /* now naming the slots in the arena's arrays */
        for (size_t i = 0; i < n; i++) {
                char *old = *slots[i];
                const char *s = shared_string(old, shared);

                if (!old)
                        continue;
                if (s)
                        *slots[i] = (char *) s;
                else {
                        size_t k = strlen(old) + 1;
                        *slots[i] = memcpy(arena + off, old, k);
                        off += k;
                }
                free(old);
        }
        free(old_features);
        free(old_properties);
        assert(off == size);
        l->arena = arena;
        return 0;
}

bool license_name_is_valid(const char *s) {
        size_t n;

        if (!s)
                return false;
        n = strlen(s);
        if (n == 0 || n > LICENSE_FEATURE_NAME_MAX)
                return false;
        for (size_t i = 0; i < n; i++)
                if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '.' ||
                      s[i] == '_' || s[i] == '-'))
                        return false;
        return true;
}

const LicenseFeature *license_find_feature(const License *l, const char *name) {
        for (size_t i = 0; i < l->n_features; i++)
                if (streq(l->features[i].name, name))
                        return &l->features[i];
        return NULL;
}

/* The document --------------------------------------------------------- */

static int parse_feature(void *doc, const Field *f, CoreError *err);
static int parse_property(void *doc, const Field *f, CoreError *err);
static void format_features(FieldWriter *w, const char *name, const void *doc);
static void format_properties(FieldWriter *w, const char *name, const void *doc);

enum {
        F_FORMAT, F_ID, F_REVISION, F_PRODUCT, F_LICENSEE, F_TYPE, F_ISSUED, F_NOT_BEFORE, F_NOT_AFTER,
        F_MAINTENANCE, F_KEY, F_FEATURE, F_PROPERTY, F_MACHINE_ID, F_DEVICE_KEY, F_NONCE, F_INTERVAL, F_GRACE,
        F_SERVER_URL,
        _F_MAX,
};

/* The enum member is read and written as an int. */
_Static_assert(sizeof(LicenseType) == sizeof(int), "LicenseType is not int-sized");

#define REQ FIELD_REQUIRED
#define AT(m) .offset = offsetof(License, m)

/* In the order of the canonical body (docs/license-format.md). */
static const FieldSpec license_fields[_F_MAX] = {
        [F_FORMAT] = {"licensed-license", FIELD_VERSION, .flags = REQ},
        [F_ID] = {"id", FIELD_LICENSE_ID, .flags = REQ, AT(id)},
        [F_REVISION] = {"revision", FIELD_U32, .flags = REQ, AT(revision)},
        [F_PRODUCT] = {"product", FIELD_PRODUCT, .flags = REQ, AT(product)},
        [F_LICENSEE] = {"licensee", FIELD_TEXT, .flags = REQ, AT(licensee), .max = LICENSE_TEXT_MAX},
        [F_TYPE] = {"type", FIELD_ENUM, .flags = REQ, AT(type), .names = license_type_table,
                    .n_names = _LICENSE_TYPE_MAX, .noun = "license type"},
        [F_ISSUED] = {"issued", FIELD_TIME, .flags = REQ, AT(issued)},
        [F_NOT_BEFORE] = {"not-before", FIELD_TIME, AT(not_before)},
        [F_NOT_AFTER] = {"not-after", FIELD_TIME, AT(not_after)},
        [F_MAINTENANCE] = {"maintenance-until", FIELD_TIME, AT(maintenance_until)},
        [F_KEY] = {"key", FIELD_TEXT, AT(key), .max = LICENSE_TEXT_MAX},
        [F_FEATURE] = {"feature", FIELD_CUSTOM, .flags = FIELD_REPEATED, .parse = parse_feature,
                       .format = format_features},
        [F_PROPERTY] = {"property", FIELD_CUSTOM, .flags = FIELD_REPEATED, .parse = parse_property,
                        .format = format_properties},
        [F_MACHINE_ID] = {"machine-id", FIELD_HEX, AT(machine_id), .max = MACHINE_ID_HEX_LEN},
        [F_DEVICE_KEY] = {"device-key", FIELD_PUBLIC_KEY, AT(device_key)},
        [F_NONCE] = {"nonce", FIELD_HEX, AT(nonce), .max = LICENSE_NONCE_HEX_LEN},
        [F_INTERVAL] = {"validation-interval", FIELD_DURATION, AT(validation_interval)},
        [F_GRACE] = {"grace-period", FIELD_DURATION, AT(grace_period)},
        [F_SERVER_URL] = {"server-url", FIELD_URL, AT(server_url)},
};

#undef REQ
#undef AT

static int license_check_decoded(const void *doc, uint32_t seen, const unsigned *lines, CoreError *err);

static const DocumentSpec license_spec = {
        .what = "license",
        .version = LICENSE_FORMAT_VERSION,
        .fields = license_fields,
        .n_fields = _F_MAX,
        .check = license_check_decoded,
};

/* Formatting ------------------------------------------------------------ */

static void format_features(FieldWriter *w, const char *name, const void *doc) {
        const License *l = doc;

        for (size_t i = 0; i < l->n_features; i++) {
                const LicenseFeature *f = &l->features[i];
                char limit[32] = "", expires[64] = "", ts[RFC3339_MAX];

                if (f->limit > 0)
                        snprintf(limit, sizeof(limit), " limit=%" PRIu32, f->limit);
                if (f->expires != TIME_UNSET)
                        snprintf(expires, sizeof(expires), " expires=%s", time_format_rfc3339(f->expires, ts));
                field_writef(w, name, "%s%s%s", f->name, limit, expires);
        }
}

static void format_properties(FieldWriter *w, const char *name, const void *doc) {
        const License *l = doc;

        for (size_t i = 0; i < l->n_properties; i++)
                field_writef(w, name, "%s=%s", l->properties[i].name, l->properties[i].value);
}

/* What a site server shares out is a number of seats per feature: a
 * floating license's feature without a limit, or NULL. */
static const LicenseFeature *floating_uncounted_feature(const License *l) {
        if (l->type == LICENSE_FLOATING)
                for (size_t i = 0; i < l->n_features; i++)
                        if (l->features[i].limit == 0)
                                return &l->features[i];
        return NULL;
}

int license_format_body(const License *l, char **ret, size_t *ret_len) {
        _cleanup_free_ char *text = NULL;
        size_t len;
        int r;

        assert(l);
        assert(ret);

        /* Refuse to sign what license_parse_body() would reject. */
        if (!identifier_is_valid(l->id, LICENSE_ID_MAX) || !product_id_is_valid(l->product) || !l->licensee ||
            l->type < 0 || l->issued == TIME_UNSET || (!l->machine_id != !l->device_key) ||
            floating_uncounted_feature(l))
                return -EINVAL;
        r = document_encode(&license_spec, l, FIELDS_ALL, &text, &len);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(text);
        *ret_len = len;
        return 0;
}

/* Parsing --------------------------------------------------------------- */

/* "NAME[ limit=N][ expires=TIME]": one space between the parts and the
 * attributes in that order, as format_features() writes them, so that a
 * feature has one spelling. */
static int parse_feature(void *doc, const Field *f, CoreError *err) {
        License *l = doc;
        _cleanup_free_ char *copy = strdup(f->value);
        LicenseFeature feat = {}, *n;
        char *rest, *tok;

        if (!copy)
                return -ENOMEM;
        if (l->n_features >= LICENSE_FEATURES_MAX)
                return core_error_set(err, E2BIG, "line %u: more than %d features", f->line, LICENSE_FEATURES_MAX);
        rest = copy;
        tok = strsep(&rest, " ");
        if (!license_name_is_valid(tok))
                return core_error_set(err, EBADMSG, "line %u: bad feature name", f->line);
        if (license_find_feature(l, tok))
                return core_error_set(err, EBADMSG, "line %u: feature '%s' listed twice", f->line, tok);
        feat.name = tok;
        while ((tok = strsep(&rest, " "))) {
                const char *v;

                if ((v = startswith(tok, "limit=")) && feat.limit == 0 && feat.expires == TIME_UNSET) {
                        if (field_parse_u32(v, &feat.limit) < 0 || feat.limit == 0)
                                return core_error_set(err, EBADMSG, "line %u: bad feature limit", f->line);
                } else if ((v = startswith(tok, "expires=")) && feat.expires == TIME_UNSET) {
                        if (time_parse_rfc3339(v, &feat.expires, NULL) < 0)
                                return core_error_set(err, EBADMSG, "line %u: bad feature expiry", f->line);
                } else if (isempty(tok))
                        return core_error_set(err, EBADMSG, "line %u: feature parts are separated by one space",
                                              f->line);
                else if (startswith(tok, "limit=") || startswith(tok, "expires="))
                        return core_error_set(err, EBADMSG,
                                              "line %u: feature attributes come once each, limit= before expires=",
                                              f->line);
                else
                        return core_error_set(err, EBADMSG, "line %u: unknown feature attribute '%.32s'", f->line,
                                              tok);
        }
        feat.name = strdup(feat.name);
        if (!feat.name)
                return -ENOMEM;
        n = realloc(l->features, (l->n_features + 1) * sizeof(*n));
        if (!n) {
                free(feat.name);
                return -ENOMEM;
        }
        l->features = n;
        n[l->n_features++] = feat;
        return 0;
}

static int parse_property(void *doc, const Field *f, CoreError *err) {
        License *l = doc;
        const char *eq = strchr(f->value, '=');
        LicenseProperty p, *n;

        if (l->n_properties >= LICENSE_PROPERTIES_MAX)
                return core_error_set(err, E2BIG, "line %u: more than %d properties", f->line,
                                      LICENSE_PROPERTIES_MAX);
        if (!eq || !eq[1])
                return core_error_set(err, EBADMSG, "line %u: property must be name=value", f->line);
        if (strlen(eq + 1) > LICENSE_TEXT_MAX)
                return core_error_set(err, EBADMSG, "line %u: property value longer than %d bytes", f->line,
                                      LICENSE_TEXT_MAX);
        p.name = strndup(f->value, (size_t) (eq - f->value));
        if (!p.name)
                return -ENOMEM;
        if (!license_name_is_valid(p.name)) {
                free(p.name);
                return core_error_set(err, EBADMSG, "line %u: bad property name", f->line);
        }
        for (size_t i = 0; i < l->n_properties; i++)
                if (streq(l->properties[i].name, p.name)) {
                        free(p.name);
                        return core_error_set(err, EBADMSG, "line %u: property listed twice", f->line);
                }
        p.value = strdup(eq + 1);
        n = p.value ? realloc(l->properties, (l->n_properties + 1) * sizeof(*n)) : NULL;
        if (!n) {
                free(p.name);
                free(p.value);
                return -ENOMEM;
        }
        l->properties = n;
        n[l->n_properties++] = p;
        return 0;
}

static int license_check_complete(const License *l, CoreError *err) {
        const LicenseFeature *uncounted;

        /* A floating license may be perpetual or for a term, as its vendor sells it. */
        if ((l->type == LICENSE_SUBSCRIPTION || l->type == LICENSE_TRIAL) && l->not_after == TIME_UNSET)
                return core_error_set(err, EBADMSG, "a %s license needs not-after", license_type_to_string(l->type));
        if (l->not_after != TIME_UNSET && l->not_after <= (l->not_before ?: l->issued))
                return core_error_set(err, EBADMSG, "not-after is not later than the start of the license");
        if (!l->machine_id != !l->device_key)
                return core_error_set(err, EBADMSG, "machine-id and device-key come together");
        uncounted = floating_uncounted_feature(l);
        if (uncounted)
                return core_error_set(err, EBADMSG, "feature %s of a floating license needs a limit (its seats)",
                                      uncounted->name);
        return 0;
}

static int license_check_decoded(const void *doc, uint32_t seen, const unsigned *lines, CoreError *err) {
        return license_check_complete(doc, err);
}

int license_parse_body(const uint8_t *body, size_t len, License *ret, CoreError *err) {
        _cleanup_(license_done) License l = LICENSE_INIT;
        int r;

        assert(ret);
        license_init(&l);

        /* license_check_complete() runs inside, as the spec's check. */
        r = document_decode(&license_spec, (const char *) body, len, &l, NULL, NULL, err);
        if (r < 0)
                return r;

        *ret = l;
        license_init(&l);
        return 0;
}

int license_sign(const License *l, EVP_PKEY *key, char **ret) {
        _cleanup_free_ char *body = NULL;
        size_t len;
        int r;

        r = license_format_body(l, &body, &len);
        if (r < 0)
                return r;
        return armor_sign(key, LICENSE_KIND, (const uint8_t *) body, len, ret);
}

int license_verify_with_key(const char *text, size_t len, EVP_PKEY *key, License *ret, CoreError *err) {
        _cleanup_(armor_done) Armor a = {};
        int r;

        r = armor_decode(text, len, LICENSE_KIND, &a, err);
        if (r < 0)
                return r;
        r = armor_verify(&a, key, err);
        if (r < 0)
                return r;
        r = license_parse_body(a.body, a.body_len, ret, err);
        if (r < 0)
                core_error_prefix(err, "signed license body is invalid: ");
        return r;
}

int license_verify_with_products(const char *text, size_t len, const ProductSet *products, License *ret,
                                 const Product **ret_product, CoreError *err) {
        return license_verify_with_products_known(text, len, products, NULL, NULL, ret, ret_product, err);
}

int license_verify_with_products_known(const char *text, size_t len, const ProductSet *products,
                                       LicenseKnownFunc known, void *userdata, License *ret,
                                       const Product **ret_product, CoreError *err) {
        _cleanup_(armor_done) Armor a = {};
        _cleanup_(license_done) License l = LICENSE_INIT;
        const Product *product;
        EVP_PKEY *key = NULL;
        int r;

        assert(products);
        license_init(&l);

        r = armor_decode(text, len, LICENSE_KIND, &a, err);
        if (r < 0)
                return r;

        /* The key id picks the key; the body is still unparsed and untrusted,
         * so the product it claims cannot be used to choose. */
        key = product_set_find_any_key(products, a.key_id);
        if (!key)
                return core_error_set(err, ENOKEY,
                                      "the license is signed by key %s, which no installed product trusts",
                                      a.key_id);
        /* The one step a caller that checked these exact bytes with this
         * key before may skip; the rest runs as for any license. */
        r = known && known(key, text, len, userdata) ? 0 : armor_verify(&a, key, err);
        if (r < 0)
                return r;
        r = license_parse_body(a.body, a.body_len, &l, err);
        if (r < 0) {
                core_error_prefix(err, "signed license body is invalid: ");
                return r;
        }
        r = product_set_check_signer(products, l.product, a.key_id, key, "license", &product, err);
        if (r < 0)
                return r;
        *ret = l;
        license_init(&l);
        if (ret_product)
                *ret_product = product;
        return 0;
}

/* Builders ---------------------------------------------------------------- */

int license_add_feature(License *l, const char *name, int64_t expires, uint32_t limit, CoreError *err) {
        LicenseFeature *n;
        char *copy;

        assert(l);
        if (!license_name_is_valid(name))
                return core_error_set(err, EINVAL,
                                      "'%.64s' is not a valid feature name (1-64 of a-z 0-9 . _ -)", name ?: "");
        if (license_find_feature(l, name))
                return core_error_set(err, EEXIST, "feature '%s' is given twice", name);
        if (l->n_features >= LICENSE_FEATURES_MAX)
                return core_error_set(err, E2BIG, "more than %d features", LICENSE_FEATURES_MAX);
        copy = strdup(name);
        n = copy ? realloc(l->features, (l->n_features + 1) * sizeof(*n)) : NULL;
        if (!n) {
                free(copy);
                return -ENOMEM;
        }
        l->features = n;
        n[l->n_features++] = (LicenseFeature) {.name = copy, .expires = expires, .limit = limit};
        return 0;
}

int license_set_property(License *l, const char *name, const char *value, CoreError *err) {
        LicenseProperty *n;
        char *k, *v;

        assert(l);
        if (!license_name_is_valid(name))
                return core_error_set(err, EINVAL, "'%.64s' is not a valid property name (1-64 of a-z 0-9 . _ -)",
                                      name ?: "");
        if (!value || !*value || strlen(value) > LICENSE_TEXT_MAX || !utf8_is_printable(value, strlen(value), false))
                return core_error_set(err, EINVAL, "property %s: value must be 1-%d printable characters", name,
                                      LICENSE_TEXT_MAX);
        for (size_t i = 0; i < l->n_properties; i++)
                if (streq(l->properties[i].name, name)) {
                        v = strdup(value);
                        if (!v)
                                return -ENOMEM;
                        free(l->properties[i].value);
                        l->properties[i].value = v;
                        return 0;
                }
        if (l->n_properties >= LICENSE_PROPERTIES_MAX)
                return core_error_set(err, E2BIG, "more than %d properties", LICENSE_PROPERTIES_MAX);
        k = strdup(name);
        v = strdup(value);
        n = k && v ? realloc(l->properties, (l->n_properties + 1) * sizeof(*n)) : NULL;
        if (!n) {
                free(k);
                free(v);
                return -ENOMEM;
        }
        l->properties = n;
        n[l->n_properties++] = (LicenseProperty) {.name = k, .value = v};
        return 0;
}

int license_add_feature_spec(License *l, const char *spec, CoreError *err) {
        _cleanup_free_ char *copy = strdup(spec);
        char *attrs, *save = NULL, *tok;
        int64_t expires = TIME_UNSET;
        uint32_t limit = 0;
        bool have_limit = false, have_expires = false;

        if (!copy)
                return -ENOMEM;
        attrs = strchr(copy, ':');
        if (attrs)
                *attrs++ = 0;
        for (tok = attrs ? strtok_r(attrs, ",", &save) : NULL; tok; tok = strtok_r(NULL, ",", &save)) {
                if ((strncmp(tok, "limit=", 6) == 0 && have_limit) ||
                    (strncmp(tok, "expires=", 8) == 0 && have_expires))
                        return core_error_set(err, EINVAL, "feature %s: '%.32s' is given twice", copy, tok);
                if (strncmp(tok, "limit=", 6) == 0) {
                        have_limit = true;
                        if (field_parse_u32(tok + 6, &limit) < 0 || limit == 0)
                                return core_error_set(err, EINVAL, "feature %s: limit must be a positive number",
                                                      copy);
                } else if (strncmp(tok, "expires=", 8) == 0) {
                        int r = time_parse_rfc3339(tok + 8, &expires, err);
                        have_expires = true;
                        if (r < 0) {
                                core_error_prefix(err, "feature %s: ", copy);
                                return r;
                        }
                } else
                        return core_error_set(err, EINVAL,
                                              "feature %s: unknown attribute '%.32s' (limit=N or expires=DATE)", copy,
                                              tok);
        }
        return license_add_feature(l, copy, expires, limit, err);
}
