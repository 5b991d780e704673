/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* A string-keyed hash map (open addressing, linear probing), for the
 * daemon's lookups by license id and by product: CheckFeature must not
 * slow down with the number of installed licenses. Keys are borrowed:
 * they must outlive their entry. */

#include <stdbool.h>
#include <stddef.h>

typedef struct HashmapSlot {
        const char *key; /* NULL: empty */
        void *value;
        bool tombstone;
} HashmapSlot;

typedef struct Hashmap {
        HashmapSlot *slots;
        size_t n_slots; /* a power of two, or 0 */
        size_t n_items;
        size_t n_used; /* items + tombstones */
} Hashmap;

void *hashmap_get(const Hashmap *h, const char *key);
/* Inserts or replaces. */
int hashmap_put(Hashmap *h, const char *key, void *value);
/* Returns the value removed, or NULL. */
void *hashmap_remove(Hashmap *h, const char *key);
void hashmap_done(Hashmap *h);
