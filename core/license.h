/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The license document: what a vendor signs. Body format (docs/license-format.md):
 *
 *   licensed-license: 1
 *   id: acme-2026-0001
 *   revision: 1
 *   product: com.example.app
 *   licensee: ACME Corp
 *   type: subscription
 *   issued: 2026-01-01T00:00:00Z
 *   not-after: 2027-01-01T00:00:00Z
 *   maintenance-until: 2027-01-01T00:00:00Z
 *   feature: reports
 *   feature: seats limit=5 expires=2026-06-01T00:00:00Z
 *   property: edition=Enterprise
 *   machine-id: <32 hex>
 *   device-key: <base64 Ed25519 public key>
 *   validation-interval: 1d
 *   grace-period: 2w
 *
 * The body is parsed only after its signature verifies. */

#include <stdbool.h>
#include <stdint.h>

#include "armor.h"
#include "error.h"
#include "product.h"

#define LICENSE_FORMAT_VERSION "1"
#define LICENSE_ID_MAX 64
#define LICENSE_FEATURE_NAME_MAX 64
#define LICENSE_TEXT_MAX 256
#define LICENSE_FEATURES_MAX 256
#define LICENSE_PROPERTIES_MAX 64
#define MACHINE_ID_HEX_LEN 32
#define LICENSE_NONCE_HEX_LEN 32
/* A buffer for a nonce as text: the hex digits and the NUL. */
#define LICENSE_NONCE_STRING_SIZE (LICENSE_NONCE_HEX_LEN + 1)

typedef enum LicenseType {
        LICENSE_PERPETUAL,
        LICENSE_SUBSCRIPTION,
        LICENSE_TRIAL,
        LICENSE_FLOATING, /* served by a site server to N clients at once (docs/floating.md) */
        _LICENSE_TYPE_MAX,
        _LICENSE_TYPE_INVALID = -1,
} LicenseType;

typedef struct LicenseFeature {
        char *name;
        int64_t expires; /* TIME_UNSET: as long as the license */
        uint32_t limit;  /* 0: not counted */
} LicenseFeature;

typedef struct LicenseProperty {
        char *name;
        char *value;
} LicenseProperty;

typedef struct License {
        char *id;
        uint32_t revision; /* a higher revision of the same id replaces the installed one */
        LicenseType type;  /* beside revision: two 4-byte fields share one 8-byte slot */
        char *product;
        char *licensee;
        int64_t issued;
        int64_t not_before;        /* TIME_UNSET: from issued */
        int64_t not_after;         /* TIME_UNSET: perpetual */
        int64_t maintenance_until; /* TIME_UNSET: all versions */
        char *key;                 /* the license key it was activated with, may be NULL */
        LicenseFeature *features;
        size_t n_features;
        LicenseProperty *properties;
        size_t n_properties;
        char *machine_id; /* NULL: not bound to a machine (not activated) */
        char *device_key; /* base64 raw Ed25519 public key, set iff machine_id is */
        char *nonce;      /* the request this license answers, may be NULL */
        int64_t validation_interval; /* -1: product default; 0: never */
        int64_t grace_period;        /* -1: product default */
        char *server_url;            /* NULL: product default */
        void *arena; /* set by license_compact(): everything above lives in it */
} License;

/* Use for every declaration: it sets the "not given" values (type unset,
 * policy from the product), which a zeroed License would not, and makes a
 * _cleanup_(license_done) on an early return safe. */
#define LICENSE_INIT                                                                                        \
        {                                                                                                   \
                .type = _LICENSE_TYPE_INVALID, .validation_interval = -1, .grace_period = -1                \
        }

const char *license_type_to_string(LicenseType t);
LicenseType license_type_from_string(const char *s);

void license_init(License *l);
void license_done(License *l);

/* For a license kept long and never edited again (an installed one):
 * moves its strings and its feature and property arrays into one
 * allocation, l->arena, instead of a dozen. A string equal to one of
 * `shared` (NULL-terminated, may be NULL) points there instead of being
 * copied: the machine id and device key every license of this machine
 * repeats. Those must outlive the license. license_done() frees the arena
 * alone; no field may be freed or replaced one by one after this. */
int license_compact(License *l, const char *const *shared);

const LicenseFeature *license_find_feature(const License *l, const char *name);

/* Canonical body text; -EINVAL if a field would not survive parsing. */
int license_format_body(const License *l, char **ret, size_t *ret_len);

/* Strict parser: unknown or repeated fields, bad values and missing required
 * fields are errors that name the line. */
int license_parse_body(const uint8_t *body, size_t len, License *ret, CoreError *err);

/* Formats, signs and armors. */
int license_sign(const License *l, EVP_PKEY *key, char **ret);

/* Decodes the armor, verifies the signature with key, then parses. */
int license_verify_with_key(const char *text, size_t len, EVP_PKEY *key, License *ret, CoreError *err);

/* Decodes the armor, finds the product whose trust key signed it, verifies,
 * parses, and checks the license names that same product. */
int license_verify_with_products(const char *text, size_t len, const ProductSet *products, License *ret,
                                 const Product **ret_product, CoreError *err);

/* The same, asking known() first, once the trust key is chosen: true means
 * these exact bytes were verified with this key before (the daemon's
 * verified-license cache, core/verified-cache.h), and only the signature
 * check is skipped. */
typedef bool (*LicenseKnownFunc)(EVP_PKEY *key, const char *text, size_t len, void *userdata);
int license_verify_with_products_known(const char *text, size_t len, const ProductSet *products,
                                       LicenseKnownFunc known, void *userdata, License *ret,
                                       const Product **ret_product, CoreError *err);

/* True if s is a valid feature or property name: 1-64 of [a-z0-9._-]. */
bool license_name_is_valid(const char *s);

/* Builders, used by the vendor tools and the server; they apply the same
 * checks as the parser. */
int license_add_feature(License *l, const char *name, int64_t expires, uint32_t limit, CoreError *err);
int license_set_property(License *l, const char *name, const char *value, CoreError *err);
/* "reports" or "seats:limit=5,expires=2027-01-01" */
int license_add_feature_spec(License *l, const char *spec, CoreError *err);
