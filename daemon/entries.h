/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The installed licenses: one Entry each, indexed by id and by product,
 * loaded from the store at start and re-verified there. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "evaluate.h"
#include "license.h"
#include "product.h"
#include "store.h"

typedef struct Context Context;
typedef struct Entry Entry;

/* The licenses of one product, for lookups that must not scan them all. */
typedef struct ProductEntries {
        char *product;
        Entry **items;
        size_t n;
} ProductEntries;

/* An installed license. */
#define ENTRY_INLINE_FEATURES 8
#define ENTRY_TEXT_DIGEST_SIZE 16

struct Entry {
        Context *context; /* owner; the bus vtable's userdata is the Entry */
        char *id; /* = license.id, not owned: the file name and the signed id are checked equal */
        /* The first 128 bits of the SHA-256 of the armored text exactly as
         * installed. The text itself stays in licenses/ID.lic and is read
         * back for Export: kept in memory it was a third of what a license
         * cost. 128 bits keep a second preimage out of reach (2^128 work)
         * and the entry in a smaller malloc size class than 256 did. */
        uint8_t text_digest[ENTRY_TEXT_DIGEST_SIZE];
        License license;
        const Product *product;
        LicenseState state;
        /* The reason last announced per feature, for FeatureChanged: a byte
         * each, in the entry itself up to ENTRY_INLINE_FEATURES features (a
         * separate allocation cost 40 bytes a license). Use
         * entry_feature_reason() and entry_set_feature_reason(). */
        union {
                uint8_t in[ENTRY_INLINE_FEATURES];
                uint8_t *heap;
        } feature_reasons;
        Reason status;           /* last announced license-level status */
        /* Built from the start image and not yet compared with its file
         * (daemon/start-image.c): fits in the padding before the next field. */
        bool unchecked;
        int64_t warned_days_left; /* last grace warning sent, -1 if none */
};

void entry_free(Entry *e);
Reason entry_feature_reason(const Entry *e, size_t k);
void entry_set_feature_reason(Entry *e, size_t k, Reason r);
/* The entry's object path, malloc'd (NULL when out of memory). Made when
 * asked rather than kept: 80 bytes per license that only bus traffic about
 * that license needs. */
char *entry_object_path(const Entry *e);
Entry *context_find_entry(Context *c, const char *id);
/* The licenses of a product (never NULL; n may be 0). */
const ProductEntries *context_product_entries(Context *c, const char *product);
/* Verifies and adds (or, for an upgrade, replaces) a license read from disk
 * or handed in; takes ownership of *l. */
int context_add_entry(Context *c, const char *id, const char *text, License *l, const Product *p,
                      const LicenseState *st, Entry **ret);
/* The same with the text's digest already known (the start image). */
int context_add_entry_digest(Context *c, const uint8_t digest[static ENTRY_TEXT_DIGEST_SIZE], License *l,
                             const Product *p, const LicenseState *st, Entry **ret);
void context_remove_entry(Context *c, Entry *e);
/* Frees every entry and both indexes (a start image that turned out
 * unusable half-way). */
void context_drop_entries(Context *c);
/* Loads (verifying in full) one entry of licenses/, as the start does. */
int context_load_license_at(Context *c, int dir_fd, const char *name);
/* Whether text is, byte for byte, what e was installed from. */
bool entry_text_is(const Entry *e, const char *text);
/* The armored text e was installed from, read back from the store: -EBADMSG
 * if the file there is no longer those bytes, -ENOENT if it is gone. */
int entry_read_text(Context *c, const Entry *e, char **ret);
void context_index_done(Context *c);
int context_load_licenses(Context *c);

/* The start image (start-image.c): 1 if the entries were built from it
 * (a background check of the files follows), 0 if the caller must load. */
int context_load_image(Context *c);
/* Something in licenses/ changed: the image is written anew, debounced. */
void context_image_changed(Context *c);
/* At exit: written now if it is out of date. */
void context_image_flush(Context *c);
void context_image_done(Context *c);
