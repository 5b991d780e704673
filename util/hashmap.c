/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
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

static HashmapSlot *find_slot(const Hashmap *h, const char *key) {
        size_t mask = h->n_slots - 1, i = hash_string(key) & mask;

        for (size_t probes = 0; probes < h->n_slots; probes++, i = (i + 1) & mask) {
                HashmapSlot *s = &h->slots[i];
                if (!s->key && !s->tombstone)
                        return NULL;
                if (s->key && strcmp(s->key, key) == 0)
                        return s;
        }
        return NULL;
}

void *hashmap_get(const Hashmap *h, const char *key) {
        HashmapSlot *s;

        if (h->n_slots == 0)
                return NULL;
        s = find_slot(h, key);
        return s ? s->value : NULL;
}

static int resize(Hashmap *h, size_t n_slots) {
        HashmapSlot *old = h->slots, *slots;
        size_t n_old = h->n_slots;

        slots = calloc(n_slots, sizeof(*slots));
        if (!slots)
                return -ENOMEM;
        h->slots = slots;
        h->n_slots = n_slots;
        h->n_items = h->n_used = 0;
        for (size_t i = 0; i < n_old; i++)
                if (old[i].key)
                        (void) hashmap_put(h, old[i].key, old[i].value); /* cannot fail: room is there */
        free(old);
        return 0;
}

int hashmap_put(Hashmap *h, const char *key, void *value) {
        HashmapSlot *s;
        size_t mask, i;
        int r;

        if (h->n_slots > 0 && (s = find_slot(h, key))) {
                s->value = value;
                s->key = key;
                return 0;
        }
        /* Keep the load (with tombstones) under 3/4. */
        if ((h->n_used + 1) * 4 > h->n_slots * 3) {
                size_t want = h->n_slots ? h->n_slots : 16;
                while ((h->n_items + 1) * 2 > want)
                        want *= 2;
                r = resize(h, want);
                if (r < 0)
                        return r;
        }
        mask = h->n_slots - 1;
        for (i = hash_string(key) & mask; h->slots[i].key; i = (i + 1) & mask)
                ;
        if (!h->slots[i].tombstone)
                h->n_used++;
        h->slots[i] = (HashmapSlot) {.key = key, .value = value};
        h->n_items++;
        return 0;
}

void *hashmap_remove(Hashmap *h, const char *key) {
        HashmapSlot *s;
        void *v;

        if (h->n_slots == 0 || !(s = find_slot(h, key)))
                return NULL;
        v = s->value;
        *s = (HashmapSlot) {.tombstone = true};
        h->n_items--;
        return v;
}

void hashmap_done(Hashmap *h) {
        free(h->slots);
        *h = (Hashmap) {};
}
