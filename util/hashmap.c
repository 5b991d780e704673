/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hashmap.h"

/* FNV-1a: keys are short identifiers chosen by vendors, not by attackers
 * who could pick colliding ones to slow the daemon down. */
static uint64_t hash_string(const char *s) {
        uint64_t h = UINT64_C(1469598103934665603);
        for (; *s; s++)
                h = (h ^ (uint8_t) *s) * UINT64_C(1099511628211);
        return h;
}

/* What a removed item's slot holds (a tombstone): probes go on past it, an
 * insert may reuse it. Compared by address only. */
static char removed_item;
#define REMOVED ((void *) &removed_item)

static bool holds_item(void *slot) {
        return slot && slot != REMOVED;
}

static void **find_slot(const Hashmap *h, const char *key, HashmapKeyFunc key_of) {
        size_t mask = h->n_slots - 1, i = hash_string(key) & mask;

        for (size_t probes = 0; probes < h->n_slots; probes++, i = (i + 1) & mask) {
                void **s = &h->slots[i];
                if (!*s)
                        return NULL;
                if (holds_item(*s) && strcmp(key_of(*s), key) == 0)
                        return s;
        }
        return NULL;
}

void *hashmap_get(const Hashmap *h, const char *key, HashmapKeyFunc key_of) {
        void **s;

        if (h->n_slots == 0)
                return NULL;
        s = find_slot(h, key, key_of);
        return s ? *s : NULL;
}

static int resize(Hashmap *h, size_t n_slots, HashmapKeyFunc key_of) {
        void **old = h->slots, **slots;
        size_t n_old = h->n_slots;

        slots = calloc(n_slots, sizeof(*slots));
        if (!slots)
                return -ENOMEM;
        h->slots = slots;
        h->n_slots = n_slots;
        h->n_items = h->n_used = 0;
        for (size_t i = 0; i < n_old; i++)
                if (holds_item(old[i]))
                        (void) hashmap_put(h, old[i], key_of); /* cannot fail: room is there */
        free(old);
        return 0;
}

int hashmap_put(Hashmap *h, void *item, HashmapKeyFunc key_of) {
        const char *key = key_of(item);
        void **s;
        size_t mask, i;
        int r;

        if (h->n_slots > 0 && (s = find_slot(h, key, key_of))) {
                *s = item;
                return 0;
        }
        /* Keep the load (with removed slots) under 3/4. */
        if ((h->n_used + 1) * 4 > h->n_slots * 3) {
                size_t want = h->n_slots ? h->n_slots : 16;
                while ((h->n_items + 1) * 2 > want)
                        want *= 2;
                r = resize(h, want, key_of);
                if (r < 0)
                        return r;
        }
        mask = h->n_slots - 1;
        for (i = hash_string(key) & mask; holds_item(h->slots[i]); i = (i + 1) & mask)
                ;
        if (!h->slots[i])
                h->n_used++;
        h->slots[i] = item;
        h->n_items++;
        return 0;
}

void *hashmap_remove(Hashmap *h, const char *key, HashmapKeyFunc key_of) {
        void **s, *item;

        if (h->n_slots == 0 || !(s = find_slot(h, key, key_of)))
                return NULL;
        item = *s;
        *s = REMOVED;
        h->n_items--;
        return item;
}

void *hashmap_slot_item(const Hashmap *h, size_t i) {
        return i < h->n_slots && holds_item(h->slots[i]) ? h->slots[i] : NULL;
}

void hashmap_done(Hashmap *h) {
        free(h->slots);
        *h = (Hashmap) {};
}
