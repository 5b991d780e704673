/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <openssl/evp.h>
#include <stddef.h>

#include "armor.h"
#include "fields.h"
#include "lease.h"
#include "string-table.h"
#include "timeutil.h"

#define LEASE_FORMAT_VERSION "1"
#define BIT(i) (UINT32_C(1) << (i))

/* The lease --------------------------------------------------------------- */

enum {
        L_FORMAT, L_SITE, L_ID, L_PRODUCT, L_FEATURE, L_MACHINE_ID, L_DEVICE_KEY, L_USER, L_HOST, L_GRANTED,
        L_EXPIRES, L_BORROWED, L_LICENSE,
        _L_MAX,
};

#define REQ FIELD_REQUIRED
#define AT(m) .offset = offsetof(Lease, m)

/* In the order of the canonical body (docs/floating.md). */
static const FieldSpec lease_fields[_L_MAX] = {
        [L_FORMAT] = {"licensed-lease", FIELD_VERSION, .flags = REQ},
        [L_SITE] = {"site", FIELD_HEX, .flags = REQ, AT(site), .max = LEASE_ID_HEX_LEN},
        [L_ID] = {"id", FIELD_HEX, .flags = REQ, AT(id), .max = LEASE_ID_HEX_LEN},
        [L_PRODUCT] = {"product", FIELD_PRODUCT, .flags = REQ, AT(product)},
        [L_FEATURE] = {"feature", FIELD_TEXT, .flags = REQ, AT(feature), .max = LICENSE_FEATURE_NAME_MAX},
        [L_MACHINE_ID] = {"machine-id", FIELD_HEX, .flags = REQ, AT(machine_id), .max = MACHINE_ID_HEX_LEN},
        [L_DEVICE_KEY] = {"device-key", FIELD_PUBLIC_KEY, .flags = REQ, AT(device_key)},
        [L_USER] = {"user", FIELD_TEXT, .flags = REQ, AT(user), .max = LEASE_TEXT_MAX},
        [L_HOST] = {"host", FIELD_TEXT, .flags = REQ, AT(host), .max = LEASE_TEXT_MAX},
        [L_GRANTED] = {"granted", FIELD_TIME, .flags = REQ, AT(granted)},
        [L_EXPIRES] = {"expires", FIELD_TIME, .flags = REQ, AT(expires)},
        [L_BORROWED] = {"borrowed-until", FIELD_TIME, AT(borrowed_until)},
        [L_LICENSE] = {"license", FIELD_HEX, .flags = REQ, AT(license), .max = LEASE_DIGEST_HEX_LEN},
};

#undef AT

static int lease_check_decoded(const void *doc, uint32_t seen, const unsigned *lines, CoreError *err) {
        const Lease *l = doc;

        if (!license_name_is_valid(l->feature))
                return core_error_set(err, EBADMSG, "line %u: '%s' is not a feature name", lines[L_FEATURE],
                                      l->feature);
        if (l->expires <= l->granted)
                return core_error_set(err, EBADMSG, "line %u: the lease expires before it is granted",
                                      lines[L_EXPIRES]);
        if ((seen & BIT(L_BORROWED)) && l->borrowed_until <= l->granted)
                return core_error_set(err, EBADMSG, "line %u: the lease is borrowed until before it is granted",
                                      lines[L_BORROWED]);
        return 0;
}

static const DocumentSpec lease_spec = {
        .what = "lease",
        .version = LEASE_FORMAT_VERSION,
        .fields = lease_fields,
        .n_fields = _L_MAX,
        .check = lease_check_decoded,
};

void lease_done(Lease *l) {
        if (!l)
                return;
        free(l->site);
        free(l->id);
        free(l->product);
        free(l->feature);
        free(l->machine_id);
        free(l->device_key);
        free(l->user);
        free(l->host);
        free(l->license);
        *l = (Lease) LEASE_INIT;
}

int lease_license_digest(const char *license_text, size_t len, char out[static LEASE_DIGEST_STRING_SIZE]) {
        uint8_t md[32];
        unsigned md_len = 0;

        if (EVP_Digest(license_text, len, md, &md_len, EVP_sha256(), NULL) != 1 || md_len != sizeof(md))
                return -EIO;
        for (size_t i = 0; i < sizeof(md); i++)
                snprintf(out + 2 * i, 3, "%02x", md[i]);
        return 0;
}

static void lease_done_any(void *l) {
        lease_done(l);
}

static const DocumentType lease_type = {&lease_spec, sizeof(Lease), &(Lease) LEASE_INIT, lease_done_any};

int lease_sign(const Lease *l, EVP_PKEY *site_key, char **ret) {
        assert(l);
        assert(site_key);
        assert(ret);
        /* Never signs what a client would refuse to read. */
        return document_sign(&lease_type, l, FIELDS_ALL, site_key, NULL, LEASE_KIND, ret);
}

int lease_verify_with_key(const char *text, size_t len, EVP_PKEY *key, Lease *ret, CoreError *err) {
        _cleanup_(armor_done) Armor a = {};
        int r;

        assert(text || len == 0);
        assert(key);
        assert(ret);

        r = armor_decode(text, len, LEASE_KIND, &a, err);
        if (r < 0)
                return r;
        r = armor_verify(&a, key, err);
        if (r < 0) {
                core_error_prefix(err, "lease: ");
                return r;
        }
        r = document_decode_new(&lease_type, a.body, a.body_len, ret, err);
        if (r < 0)
                core_error_prefix(err, "signed lease body is invalid: ");
        return r;
}

/* The chain --------------------------------------------------------------- */

static int check_license(const License *lic, int64_t now, const char *feature, CoreError *err) {
        const LicenseFeature *f;

        if (lic->type != LICENSE_FLOATING)
                return core_error_set(err, EXDEV, "license %s is a %s license, not a floating one", lic->id,
                                      license_type_to_string(lic->type));
        if (!lic->device_key)
                return core_error_set(err, EXDEV, "floating license %s is not activated on a site server",
                                      lic->id);
        if (!feature)
                return 0;
        f = license_find_feature(lic, feature);
        if (!f || f->limit == 0)
                return core_error_set(err, EXDEV, "floating license %s has no seats for feature %s", lic->id,
                                      feature);
        if (lic->not_before != TIME_UNSET && now < lic->not_before)
                return core_error_set(err, ETIME, "floating license %s is not valid yet", lic->id);
        if (lic->not_after != TIME_UNSET && now >= lic->not_after)
                return core_error_set(err, ETIME, "floating license %s has expired", lic->id);
        if (f->expires != TIME_UNSET && now >= f->expires)
                return core_error_set(err, ETIME, "feature %s of floating license %s has expired", feature,
                                      lic->id);
        return 0;
}

static int check_lease(const Lease *ls, const License *lic, const char *digest, const char *machine_id,
                       const char *device_key, int64_t now, CoreError *err) {
        char t[RFC3339_MAX];

        if (!streq(ls->license, digest))
                return core_error_set(err, EXDEV, "lease %s draws on another floating license than %s", ls->id,
                                      lic->id);
        if (!streq(ls->site, lic->machine_id))
                return core_error_set(err, EXDEV, "lease %s names site %s, but license %s is bound to site %s",
                                      ls->id, ls->site, lic->id, lic->machine_id);
        if (!streq(ls->product, lic->product))
                return core_error_set(err, EXDEV, "lease %s is for %s, license %s for %s", ls->id, ls->product,
                                      lic->id, lic->product);
        if (!streq(ls->machine_id, machine_id) || !streq(ls->device_key, device_key))
                return core_error_set(err, EPERM, "lease %s was granted to another machine (%s)", ls->id,
                                      ls->machine_id);
        if (now < ls->granted)
                return core_error_set(err, ETIME, "lease %s is granted only from %s", ls->id,
                                      time_format_rfc3339(ls->granted, t));
        if (ls->borrowed_until != TIME_UNSET ? now >= ls->borrowed_until : now >= ls->expires)
                return core_error_set(err, ETIME, "lease %s ended at %s", ls->id,
                                      time_format_rfc3339(ls->borrowed_until ?: ls->expires, t));
        return 0;
}

int lease_check_chain(const char *license_text, size_t license_len, const char *lease_text, size_t lease_len,
                      const ProductSet *products, const char *machine_id, const char *device_key, int64_t now,
                      License *ret_license, Lease *ret_lease, CoreError *err) {
        _cleanup_(license_done) License lic = LICENSE_INIT;
        _cleanup_(lease_done) Lease ls = LEASE_INIT;
        _cleanup_pkey_ EVP_PKEY *site_key = NULL;
        char digest[LEASE_DIGEST_STRING_SIZE];
        int r;

        assert(products);
        assert(machine_id);
        assert(device_key);

        /* 1. vendor -> floating license */
        r = license_verify_with_products(license_text, license_len, products, &lic, NULL, err);
        if (r < 0)
                return r;
        r = check_license(&lic, now, NULL, err);
        if (r < 0)
                return r;
        /* 2. floating license -> site key -> lease */
        r = ed25519_public_from_base64(lic.device_key, &site_key, err);
        if (r < 0)
                return r;
        r = lease_verify_with_key(lease_text, lease_len, site_key, &ls, err);
        if (r < 0) {
                if (r == -ENOKEY)
                        core_error_prefix(err, "the lease is not from the site of license %s: ", lic.id);
                return r;
        }
        /* 3. to 5. what the lease says, about that license, this client, now */
        r = lease_license_digest(license_text, license_len, digest);
        if (r < 0)
                return r;
        r = check_lease(&ls, &lic, digest, machine_id, device_key, now, err);
        if (r < 0)
                return r;
        r = check_license(&lic, now, ls.feature, err);
        if (r < 0)
                return r;

        if (ret_license) {
                *ret_license = lic;
                license_init(&lic);
        }
        if (ret_lease) {
                *ret_lease = ls;
                ls = (Lease) LEASE_INIT;
        }
        return 0;
}

/* The site request -------------------------------------------------------- */

static const char *const site_request_type_table[_SITE_REQUEST_TYPE_MAX] = {
        [SITE_REQUEST_ENROL] = "enrol",
        [SITE_REQUEST_CHECKOUT] = "checkout",
        [SITE_REQUEST_HEARTBEAT] = "heartbeat",
        [SITE_REQUEST_RETURN] = "return",
        [SITE_REQUEST_BORROW] = "borrow",
        [SITE_REQUEST_STATUS] = "status",
        [SITE_REQUEST_RELEASE] = "release",
};

DEFINE_STRING_TABLE_LOOKUP(site_request_type, SiteRequestType);

_Static_assert(sizeof(SiteRequestType) == sizeof(int), "the enum member is read and written as int");

enum {
        S_FORMAT, S_TYPE, S_SITE, S_MACHINE_ID, S_DEVICE_KEY, S_NONCE, S_CREATED, S_TOKEN, S_LEASE, S_PRODUCT,
        S_FEATURE, S_USER, S_HOST, S_BORROW_UNTIL,
        _S_MAX,
};

#define AT(m) .offset = offsetof(SiteRequest, m)

/* Which of the optional ones a type has is site_request_fields_of[]'s. */
static const FieldSpec site_request_fields[_S_MAX] = {
        [S_FORMAT] = {"licensed-site-request", FIELD_VERSION, .flags = REQ},
        [S_TYPE] = {"type", FIELD_ENUM, .flags = REQ, AT(type), .names = site_request_type_table,
                    .n_names = _SITE_REQUEST_TYPE_MAX, .noun = "site request type"},
        [S_SITE] = {"site", FIELD_HEX, .flags = REQ, AT(site), .max = LEASE_ID_HEX_LEN},
        [S_MACHINE_ID] = {"machine-id", FIELD_HEX, .flags = REQ, AT(machine_id), .max = MACHINE_ID_HEX_LEN},
        [S_DEVICE_KEY] = {"device-key", FIELD_PUBLIC_KEY, .flags = REQ, AT(device_key)},
        [S_NONCE] = {"nonce", FIELD_HEX, .flags = REQ, AT(nonce), .max = LICENSE_NONCE_HEX_LEN},
        [S_CREATED] = {"created", FIELD_TIME, .flags = REQ, AT(created)},
        [S_TOKEN] = {"token", FIELD_HEX, AT(token), .max = LEASE_ID_HEX_LEN},
        [S_LEASE] = {"lease", FIELD_HEX, AT(lease), .max = LEASE_ID_HEX_LEN},
        [S_PRODUCT] = {"product", FIELD_PRODUCT, AT(product)},
        [S_FEATURE] = {"feature", FIELD_TEXT, AT(feature), .max = LICENSE_FEATURE_NAME_MAX},
        [S_USER] = {"user", FIELD_TEXT, AT(user), .max = LEASE_TEXT_MAX},
        [S_HOST] = {"host", FIELD_TEXT, AT(host), .max = LEASE_TEXT_MAX},
        [S_BORROW_UNTIL] = {"borrow-until", FIELD_TIME, AT(borrow_until)},
};

#undef AT
#undef REQ

#define S_COMMON (BIT(S_FORMAT) | BIT(S_TYPE) | BIT(S_SITE) | BIT(S_MACHINE_ID) | BIT(S_DEVICE_KEY) | \
                  BIT(S_NONCE) | BIT(S_CREATED))
#define S_TAKE (BIT(S_PRODUCT) | BIT(S_FEATURE) | BIT(S_USER) | BIT(S_HOST))

/* Each type has exactly these fields, all required. */
static const uint32_t site_request_fields_of[_SITE_REQUEST_TYPE_MAX] = {
        [SITE_REQUEST_ENROL] = S_COMMON | BIT(S_TOKEN) | BIT(S_HOST),
        [SITE_REQUEST_CHECKOUT] = S_COMMON | S_TAKE,
        [SITE_REQUEST_HEARTBEAT] = S_COMMON | BIT(S_LEASE),
        [SITE_REQUEST_RETURN] = S_COMMON | BIT(S_LEASE),
        [SITE_REQUEST_BORROW] = S_COMMON | S_TAKE | BIT(S_BORROW_UNTIL),
        [SITE_REQUEST_STATUS] = S_COMMON,
        [SITE_REQUEST_RELEASE] = S_COMMON | BIT(S_LEASE) | BIT(S_HOST),
};

static int site_request_check_decoded(const void *doc, uint32_t seen, const unsigned *lines, CoreError *err);

static const DocumentSpec site_request_spec = {
        .what = "site request",
        .version = LEASE_FORMAT_VERSION,
        .fields = site_request_fields,
        .n_fields = _S_MAX,
        .check = site_request_check_decoded,
};

static int site_request_check_decoded(const void *doc, uint32_t seen, const unsigned *lines, CoreError *err) {
        const SiteRequest *sr = doc;
        uint32_t fields = site_request_fields_of[sr->type], extra = seen & ~fields;

        /* The codec has checked the common fields, the type among them. */
        if (extra) {
                unsigned i = (unsigned) __builtin_ctz(extra);
                return core_error_set(err, EBADMSG, "line %u: a %s request has no '%s' field", lines[i],
                                      site_request_type_to_string(sr->type), site_request_fields[i].name);
        }
        if (seen != fields)
                return document_check_required(&site_request_spec, seen, fields, "site request", err);
        if ((seen & BIT(S_FEATURE)) && !license_name_is_valid(sr->feature))
                return core_error_set(err, EBADMSG, "line %u: '%s' is not a feature name", lines[S_FEATURE],
                                      sr->feature);
        return 0;
}

void site_request_done(SiteRequest *r) {
        if (!r)
                return;
        free(r->site);
        free(r->machine_id);
        free(r->device_key);
        free(r->nonce);
        free(r->token);
        free(r->lease);
        free(r->product);
        free(r->feature);
        free(r->user);
        free(r->host);
        *r = (SiteRequest) SITE_REQUEST_INIT;
}

static void site_request_done_any(void *r) {
        site_request_done(r);
}

static const DocumentType site_request_type = {&site_request_spec, sizeof(SiteRequest),
                                               &(SiteRequest) SITE_REQUEST_INIT, site_request_done_any};

int site_request_sign(const SiteRequest *r, EVP_PKEY *device_key, char **ret) {
        assert(r);
        assert(device_key);
        assert(ret);

        if (r->type < 0 || r->type >= _SITE_REQUEST_TYPE_MAX)
                return -EINVAL;
        /* Encoding every member, then parsing with the type's rule, refuses
         * a member set that the type has no field for, instead of dropping it. */
        return document_sign(&site_request_type, r, FIELDS_ALL, device_key, r->device_key, SITE_REQUEST_KIND, ret);
}

int site_request_verify(const char *text, size_t len, SiteRequest *ret, CoreError *err) {
        _cleanup_(armor_done) Armor a = {};
        _cleanup_(site_request_done) SiteRequest sr = SITE_REQUEST_INIT;
        int r;

        assert(text || len == 0);
        assert(ret);

        r = armor_decode(text, len, SITE_REQUEST_KIND, &a, err);
        if (r < 0)
                return r;
        /* Self-signed: the body names the key, so it is parsed first, by the
         * same strict, bounded parser; nothing in it is used unless the
         * signature then verifies against that very key. */
        r = document_decode_new(&site_request_type, a.body, a.body_len, &sr, err);
        if (r < 0) {
                core_error_prefix(err, "the site request is invalid: ");
                return r;
        }
        r = armor_verify_self_signed(&a, sr.device_key, "site request", err);
        if (r < 0)
                return r;
        *ret = sr;
        sr = (SiteRequest) SITE_REQUEST_INIT;
        return 0;
}
