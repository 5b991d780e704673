/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* A string-keyed hash map (open addressing, linear probing) of items that
 * carry their own key, for the daemon's lookups by license id and by
 * product: CheckFeature must not slow down with the number of installed
 * licenses. A slot is one pointer, the item, and the caller says where an
 * item's key is (key_of, the same function on every call for one map): at
 * 100,000 licenses slots of key, value and flag took 6 MiB, items alone 2.
 * A zeroed Hashmap is an empty map. Keys are borrowed from the items. */

#include <stddef.h>

typedef const char *(*HashmapKeyFunc)(const void *item);

typedef struct Hashmap {
        void **slots;   /* NULL: empty; hashmap.c's sentinel: removed */
        size_t n_slots; /* a power of two, or 0 */
        size_t n_items;
        size_t n_used; /* items + removed slots */
} Hashmap;

void *hashmap_get(const Hashmap *h, const char *key, HashmapKeyFunc key_of);
/* Inserts item, or puts it in the place of the item with the same key. */
int hashmap_put(Hashmap *h, void *item, HashmapKeyFunc key_of);
/* Returns the item removed, or NULL. */
void *hashmap_remove(Hashmap *h, const char *key, HashmapKeyFunc key_of);
/* The item in slot i (i < n_slots), or NULL: for visiting every item. */
void *hashmap_slot_item(const Hashmap *h, size_t i);
void hashmap_done(Hashmap *h);
