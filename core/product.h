/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Products and their trust keys, from libconfig files in products.d/. The
 * vendor ships /usr/lib/licensed/products.d/NAME.conf; the administrator may
 * override it with /etc/licensed/products.d/NAME.conf (same file name wins,
 * the /etc one completely replaces the vendor one). See docs/configuration.md. */

#include <stdbool.h>
#include <stdint.h>

#include "crypto.h"
#include "error.h"
#include "timeutil.h"

typedef struct TrustKey {
        char id[KEY_ID_STRING_SIZE];
        EVP_PKEY *key;
} TrustKey;

typedef struct Product {
        char *id;          /* reverse-DNS style, e.g. "com.example.app" */
        char *name;        /* display name */
        char *server_url;  /* activation/validation server, may be NULL */
        char *offline_url; /* web page for offline activation, may be NULL */
        char *source_path; /* file it was loaded from, for messages */
        TrustKey *trust_keys;
        size_t n_trust_keys;
        int64_t validation_interval; /* default policy, seconds; 0 = never validate */
        int64_t grace_period;        /* seconds */
} Product;

typedef struct ProductSet {
        Product *products;
        size_t n_products;
} ProductSet;

#define PRODUCT_DEFAULT_VALIDATION_INTERVAL (SEC_PER_DAY)
#define PRODUCT_DEFAULT_GRACE_PERIOD (14 * SEC_PER_DAY)

/* Called for each file that cannot be used; loading goes on with the rest. */
typedef void (*ProductWarnFunc)(const char *path, const char *message, void *userdata);

/* Loads one product file. Errors name the file and line. */
int product_load_file(const char *path, Product *ret, CoreError *err);
void product_done(Product *p);

/* Loads *.conf from dirs; later dirs take precedence for the same file name.
 * Missing dirs are fine. Bad files and duplicate product ids are reported via
 * warn (may be NULL) and skipped. Returns negative errno only for failures
 * that are not about one file (out of memory). */
int product_set_load(ProductSet *set, const char *const *dirs, size_t n_dirs, ProductWarnFunc warn,
                     void *userdata);
void product_set_done(ProductSet *set);

const Product *product_set_find(const ProductSet *set, const char *id);
EVP_PKEY *product_find_trust_key(const Product *p, const char *key_id);

/* True if s is a valid product id: 1-128 chars of [a-z0-9._-], starting with
 * a letter or digit. */
bool product_id_is_valid(const char *s);

/* Signed documents from vendors (licenses, receipts) are checked in two
 * steps around their signature. First, before the body is trusted: the key
 * with this id from any product (a vendor may sign several products with
 * one key); NULL if none trusts it. */
EVP_PKEY *product_set_find_any_key(const ProductSet *set, const char *key_id);

/* Then, once the body is authentic: the product it names must be installed
 * and trust exactly the key that signed it (compared as keys: an id names a
 * key, it does not prove which one). what is "license" or "receipt" for the
 * message. Returns 0, -ENOENT or -EPERM. */
int product_set_check_signer(const ProductSet *set, const char *product_id, const char *key_id, EVP_PKEY *key,
                             const char *what, const Product **ret_product, CoreError *err);
