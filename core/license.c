/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <inttypes.h>
#include <limits.h>

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

int license_format_body(const License *l, char **ret, size_t *ret_len) {
        FieldWriter w = {};

        assert(l);
        assert(ret);

        field_write(&w, "licensed-license", LICENSE_FORMAT_VERSION);
        field_write(&w, "id", l->id);
        field_writef(&w, "revision", "%" PRIu32, l->revision);
        field_write(&w, "product", l->product);
        field_write(&w, "licensee", l->licensee);
        field_write(&w, "type", license_type_to_string(l->type));
        field_write_time(&w, "issued", l->issued);
        field_write_time(&w, "not-before", l->not_before);
        field_write_time(&w, "not-after", l->not_after);
        field_write_time(&w, "maintenance-until", l->maintenance_until);
        field_write(&w, "key", l->key);
        for (size_t i = 0; i < l->n_features; i++) {
                const LicenseFeature *f = &l->features[i];
                char limit[32] = "", expires[64] = "", ts[RFC3339_MAX];

                if (f->limit > 0)
                        snprintf(limit, sizeof(limit), " limit=%" PRIu32, f->limit);
                if (f->expires != TIME_UNSET)
                        snprintf(expires, sizeof(expires), " expires=%s", time_format_rfc3339(f->expires, ts));
                field_writef(&w, "feature", "%s%s%s", f->name, limit, expires);
        }
        for (size_t i = 0; i < l->n_properties; i++)
                field_writef(&w, "property", "%s=%s", l->properties[i].name, l->properties[i].value);
        field_write(&w, "machine-id", l->machine_id);
        field_write(&w, "device-key", l->device_key);
        field_write(&w, "nonce", l->nonce);
        if (l->validation_interval >= 0)
                field_write_duration(&w, "validation-interval", l->validation_interval);
        if (l->grace_period >= 0)
                field_write_duration(&w, "grace-period", l->grace_period);
        field_write(&w, "server-url", l->server_url);

        /* Refuse to sign what license_parse_body() would reject. */
        if (!identifier_is_valid(l->id, LICENSE_ID_MAX) || !product_id_is_valid(l->product) || !l->licensee ||
            l->type < 0 || l->issued == TIME_UNSET || (!l->machine_id != !l->device_key))
                w.error = w.error ?: -EINVAL;
        return field_writer_finish(&w, ret, ret_len);
}

/* Parsing --------------------------------------------------------------- */

typedef struct ParseState {
        License *l;
        uint32_t seen; /* bit per singular field */
        CoreError *err;
} ParseState;

static int parse_u32(const char *s, uint32_t *ret) {
        char *end;
        unsigned long v;

        if (!(s[0] >= '0' && s[0] <= '9'))
                return -EINVAL;
        errno = 0;
        v = strtoul(s, &end, 10);
        if (errno || *end || v > UINT32_MAX)
                return -EINVAL;
        *ret = (uint32_t) v;
        return 0;
}

static int parse_feature(ParseState *ps, const Field *f) {
        _cleanup_free_ char *copy = strdup(f->value);
        LicenseFeature feat = {}, *n;
        char *save = NULL, *tok;

        if (!copy)
                return -ENOMEM;
        if (ps->l->n_features >= LICENSE_FEATURES_MAX)
                return core_error_set(ps->err, E2BIG, "line %u: more than %d features", f->line,
                                      LICENSE_FEATURES_MAX);
        tok = strtok_r(copy, " ", &save);
        if (!tok || !license_name_is_valid(tok))
                return core_error_set(ps->err, EBADMSG, "line %u: bad feature name", f->line);
        if (license_find_feature(ps->l, tok))
                return core_error_set(ps->err, EBADMSG, "line %u: feature '%s' listed twice", f->line, tok);
        feat.name = tok;
        while ((tok = strtok_r(NULL, " ", &save))) {
                if (strncmp(tok, "limit=", 6) == 0 && feat.limit == 0) {
                        if (parse_u32(tok + 6, &feat.limit) < 0 || feat.limit == 0)
                                return core_error_set(ps->err, EBADMSG, "line %u: bad feature limit", f->line);
                } else if (strncmp(tok, "expires=", 8) == 0 && feat.expires == TIME_UNSET) {
                        if (time_parse_rfc3339(tok + 8, &feat.expires, NULL) < 0)
                                return core_error_set(ps->err, EBADMSG, "line %u: bad feature expiry",
                                                      f->line);
                } else
                        return core_error_set(ps->err, EBADMSG, "line %u: unknown feature attribute '%.32s'",
                                              f->line, tok);
        }
        feat.name = strdup(feat.name);
        if (!feat.name)
                return -ENOMEM;
        n = realloc(ps->l->features, (ps->l->n_features + 1) * sizeof(*n));
        if (!n) {
                free(feat.name);
                return -ENOMEM;
        }
        ps->l->features = n;
        n[ps->l->n_features++] = feat;
        return 0;
}

static int parse_property(ParseState *ps, const Field *f) {
        const char *eq = strchr(f->value, '=');
        LicenseProperty p, *n;

        if (ps->l->n_properties >= LICENSE_PROPERTIES_MAX)
                return core_error_set(ps->err, E2BIG, "line %u: more than %d properties", f->line,
                                      LICENSE_PROPERTIES_MAX);
        if (!eq || !eq[1])
                return core_error_set(ps->err, EBADMSG, "line %u: property must be name=value", f->line);
        if (strlen(eq + 1) > LICENSE_TEXT_MAX)
                return core_error_set(ps->err, EBADMSG, "line %u: property value longer than %d bytes", f->line,
                                      LICENSE_TEXT_MAX);
        p.name = strndup(f->value, (size_t) (eq - f->value));
        if (!p.name)
                return -ENOMEM;
        if (!license_name_is_valid(p.name)) {
                free(p.name);
                return core_error_set(ps->err, EBADMSG, "line %u: bad property name", f->line);
        }
        for (size_t i = 0; i < ps->l->n_properties; i++)
                if (streq(ps->l->properties[i].name, p.name)) {
                        free(p.name);
                        return core_error_set(ps->err, EBADMSG, "line %u: property listed twice", f->line);
                }
        p.value = strdup(eq + 1);
        n = p.value ? realloc(ps->l->properties, (ps->l->n_properties + 1) * sizeof(*n)) : NULL;
        if (!n) {
                free(p.name);
                free(p.value);
                return -ENOMEM;
        }
        ps->l->properties = n;
        n[ps->l->n_properties++] = p;
        return 0;
}

enum {
        F_FORMAT, F_ID, F_REVISION, F_PRODUCT, F_LICENSEE, F_TYPE, F_ISSUED, F_NOT_BEFORE, F_NOT_AFTER,
        F_MAINTENANCE, F_KEY, F_MACHINE_ID, F_DEVICE_KEY, F_NONCE, F_INTERVAL, F_GRACE, F_SERVER_URL,
        _F_MAX,
};

static const char *const singular_fields[_F_MAX] = {
        [F_FORMAT] = "licensed-license",
        [F_ID] = "id",
        [F_REVISION] = "revision",
        [F_PRODUCT] = "product",
        [F_LICENSEE] = "licensee",
        [F_TYPE] = "type",
        [F_ISSUED] = "issued",
        [F_NOT_BEFORE] = "not-before",
        [F_NOT_AFTER] = "not-after",
        [F_MAINTENANCE] = "maintenance-until",
        [F_KEY] = "key",
        [F_MACHINE_ID] = "machine-id",
        [F_DEVICE_KEY] = "device-key",
        [F_NONCE] = "nonce",
        [F_INTERVAL] = "validation-interval",
        [F_GRACE] = "grace-period",
        [F_SERVER_URL] = "server-url",
};

static int set_string(char **dst, const char *v) {
        *dst = strdup(v);
        return *dst ? 0 : -ENOMEM;
}

static int parse_singular(ParseState *ps, int which, const Field *f) {
        License *l = ps->l;
        const char *v = f->value;
        int64_t *t = NULL, *d = NULL;

        switch (which) {
        case F_FORMAT:
                if (f->line != 1)
                        return core_error_set(ps->err, EBADMSG, "line %u: format line must come first", f->line);
                if (!streq(v, LICENSE_FORMAT_VERSION))
                        return core_error_set(ps->err, EPROTONOSUPPORT,
                                              "license format version %.16s is not supported (this version "
                                              "reads %s): update licensed",
                                              v, LICENSE_FORMAT_VERSION);
                return 0;
        case F_ID:
                if (!identifier_is_valid(v, LICENSE_ID_MAX))
                        return core_error_set(ps->err, EBADMSG, "line %u: bad license id", f->line);
                return set_string(&l->id, v);
        case F_REVISION:
                if (parse_u32(v, &l->revision) < 0)
                        return core_error_set(ps->err, EBADMSG, "line %u: bad revision", f->line);
                return 0;
        case F_PRODUCT:
                if (!product_id_is_valid(v))
                        return core_error_set(ps->err, EBADMSG, "line %u: bad product id", f->line);
                return set_string(&l->product, v);
        case F_LICENSEE:
                if (strlen(v) > LICENSE_TEXT_MAX)
                        return core_error_set(ps->err, EBADMSG, "line %u: licensee too long", f->line);
                return set_string(&l->licensee, v);
        case F_TYPE:
                l->type = license_type_from_string(v);
                if (l->type < 0)
                        return core_error_set(ps->err, EBADMSG, "line %u: unknown license type", f->line);
                return 0;
        case F_ISSUED: t = &l->issued; break;
        case F_NOT_BEFORE: t = &l->not_before; break;
        case F_NOT_AFTER: t = &l->not_after; break;
        case F_MAINTENANCE: t = &l->maintenance_until; break;
        case F_KEY:
                if (strlen(v) > LICENSE_TEXT_MAX)
                        return core_error_set(ps->err, EBADMSG, "line %u: key too long", f->line);
                return set_string(&l->key, v);
        case F_MACHINE_ID:
                if (!hex_is_valid(v, MACHINE_ID_HEX_LEN))
                        return core_error_set(ps->err, EBADMSG, "line %u: machine-id must be 32 hex digits",
                                              f->line);
                return set_string(&l->machine_id, v);
        case F_DEVICE_KEY: {
                EVP_PKEY *k = NULL;
                if (ed25519_public_from_base64(v, &k, NULL) < 0)
                        return core_error_set(ps->err, EBADMSG, "line %u: bad device-key", f->line);
                EVP_PKEY_free(k);
                return set_string(&l->device_key, v);
        }
        case F_NONCE:
                if (!hex_is_valid(v, LICENSE_NONCE_HEX_LEN))
                        return core_error_set(ps->err, EBADMSG, "line %u: nonce must be 32 hex digits", f->line);
                return set_string(&l->nonce, v);
        case F_INTERVAL: d = &l->validation_interval; break;
        case F_GRACE: d = &l->grace_period; break;
        case F_SERVER_URL:
                if (strncmp(v, "https://", 8) != 0 && strncmp(v, "http://", 7) != 0)
                        return core_error_set(ps->err, EBADMSG, "line %u: server-url must be http(s)", f->line);
                return set_string(&l->server_url, v);
        default:
                assert(false);
        }
        if (t && time_parse_rfc3339(v, t, NULL) < 0)
                return core_error_set(ps->err, EBADMSG, "line %u: %s is not a UTC time", f->line, f->name);
        if (d && duration_parse(v, d, NULL) < 0)
                return core_error_set(ps->err, EBADMSG, "line %u: %s is not a duration", f->line, f->name);
        return 0;
}

static int license_check_complete(const License *l, uint32_t seen, CoreError *err) {
        static const int required[] = {F_FORMAT, F_ID, F_REVISION, F_PRODUCT, F_LICENSEE, F_TYPE, F_ISSUED};

        for (size_t i = 0; i < ELEMENTSOF(required); i++)
                if (!(seen & (1u << required[i])))
                        return core_error_set(err, EBADMSG, "required field '%s' is missing",
                                              singular_fields[required[i]]);
        if (l->type != LICENSE_PERPETUAL && l->not_after == TIME_UNSET)
                return core_error_set(err, EBADMSG, "a %s license needs not-after", license_type_to_string(l->type));
        if (l->not_after != TIME_UNSET && l->not_after <= (l->not_before ?: l->issued))
                return core_error_set(err, EBADMSG, "not-after is not later than the start of the license");
        if (!l->machine_id != !l->device_key)
                return core_error_set(err, EBADMSG, "machine-id and device-key come together");
        return 0;
}

int license_parse_body(const uint8_t *body, size_t len, License *ret, CoreError *err) {
        _cleanup_(fields_done) Fields fields = {};
        _cleanup_(license_done) License l = LICENSE_INIT;
        ParseState ps = {.l = &l, .err = err};
        int r;

        assert(ret);
        license_init(&l);

        r = fields_parse((const char *) body, len, &fields, err);
        if (r < 0)
                return r;

        for (size_t i = 0; i < fields.n; i++) {
                const Field *f = &fields.items[i];
                int which = -1;

                if (streq(f->name, "feature"))
                        r = parse_feature(&ps, f);
                else if (streq(f->name, "property"))
                        r = parse_property(&ps, f);
                else {
                        for (int k = 0; k < _F_MAX; k++)
                                if (streq(f->name, singular_fields[k]))
                                        which = k;
                        if (which < 0)
                                return core_error_set(err, EBADMSG, "line %u: unknown field '%s'", f->line,
                                                      f->name);
                        if (ps.seen & (1u << which))
                                return core_error_set(err, EBADMSG, "line %u: '%s' appears twice", f->line,
                                                      f->name);
                        ps.seen |= 1u << which;
                        r = parse_singular(&ps, which, f);
                }
                if (r < 0)
                        return r;
        }
        r = license_check_complete(&l, ps.seen, err);
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
        r = armor_verify(&a, key, err);
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
                        if (parse_u32(tok + 6, &limit) < 0 || limit == 0)
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
