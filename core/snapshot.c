/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <stddef.h>

#include "license.h"
#include "macro.h"
#include "product.h"
#include "snapshot.h"

_Static_assert(sizeof(SnapshotHeader) == 120, "the header layout is part of the file format");
_Static_assert(sizeof(SnapshotEntry) == 48, "the entry layout is part of the file format");
_Static_assert(sizeof(SNAPSHOT_MAGIC) - 1 == sizeof(((SnapshotHeader *) NULL)->magic), "magic is 8 bytes");

#define FNV_OFFSET UINT64_C(0xcbf29ce484222325)
#define FNV_PRIME UINT64_C(0x100000001b3)

static uint64_t fnv1a(uint64_t h, const void *data, size_t len) {
        const uint8_t *p = data;

        for (size_t i = 0; i < len; i++) {
                h ^= p[i];
                h *= FNV_PRIME;
        }
        return h;
}

uint64_t snapshot_checksum(const void *data, size_t size) {
        SnapshotHeader h;

        assert(size >= sizeof(h));
        memcpy(&h, data, sizeof(h));
        h.checksum = 0;
        h.superseded = 0;
        return fnv1a(fnv1a(FNV_OFFSET, &h, sizeof(h)), (const uint8_t *) data + sizeof(h), size - sizeof(h));
}

static uint64_t load64(const char *p) {
        uint64_t w;

        memcpy(&w, p, sizeof(w));
        return w;
}

static uint64_t load32(const char *p) {
        uint32_t w;

        memcpy(&w, p, sizeof(w));
        return w;
}

static uint64_t mix(uint64_t h, uint64_t w) {
        h = (h ^ w) * UINT64_C(0x9e3779b97f4a7c15);
        return h ^ (h >> 32);
}

/* Eight bytes a step, and the last one to eight bytes read as one word
 * that overlaps the step before (or two overlapping halves, or three
 * bytes): no byte-by-byte loop and no read outside the name. The length
 * goes in too, so ("ab", "c") and ("a", "bc") differ. Native byte order,
 * like the rest of the file. */
static inline __attribute__((always_inline)) uint64_t hash_name(uint64_t h, const char *s, size_t len) {
        const char *end = s + len;
        uint64_t last;

        if (len > 8) {
                for (; end - s > 8; s += 8)
                        h = mix(h, load64(s));
                last = load64(end - 8);
        } else if (len >= 4)
                last = load32(s) | load32(end - 4) << 32;
        else if (len > 0)
                last = (uint64_t) (uint8_t) s[0] | (uint64_t) (uint8_t) s[len / 2] << 8 |
                       (uint64_t) (uint8_t) s[len - 1] << 16;
        else
                last = 0;
        h = mix(h ^ (uint64_t) len << 56, last);
        return h ^ (h >> 29);
}

static inline __attribute__((always_inline)) uint64_t key_hash(const char *product, size_t product_len,
                                                               const char *feature, size_t feature_len) {
        return hash_name(hash_name(FNV_OFFSET, product, product_len), feature, feature_len);
}

uint64_t snapshot_key_hash(const char *product, size_t product_len, const char *feature, size_t feature_len) {
        return key_hash(product, product_len, feature, feature_len);
}

/* Buckets for n entries: a power of two at least twice n, so probes stay
 * short and always meet an empty bucket; none for no entries. */
static size_t buckets_for(size_t n) {
        size_t b = 1;

        if (n == 0)
                return 0;
        while (b < 2 * n)
                b <<= 1;
        return b;
}

static int record_compare(const void *a, const void *b) {
        const SnapshotRecord *x = a, *y = b;
        int r = strcmp(x->product, y->product);

        return r != 0 ? r : strcmp(x->feature, y->feature);
}

/* The same rules as licensed's CheckFeature and liblicensed's argument
 * checks: so a name found in a snapshot is a valid argument, and the library
 * can look it up before checking the caller's names (docs/client-library.md). */
static bool names_ok(const char *product, const char *feature) {
        return product_id_is_valid(product) && license_name_is_valid(feature);
}

int snapshot_build(SnapshotRecord *records, size_t n, const SnapshotInfo *info, void **ret,
                   size_t *ret_size) {
        size_t strings_size = 0, size, pos, n_buckets;
        SnapshotHeader *h;
        SnapshotEntry *entries;
        uint32_t *buckets;
        uint8_t *buf;

        assert(records || n == 0);
        assert(info);
        assert(ret);
        assert(ret_size);

        for (size_t i = 0; i < n; i++)
                if (!names_ok(records[i].product, records[i].feature))
                        return -EINVAL;
        if (n > 0)
                qsort(records, n, sizeof(*records), record_compare);
        for (size_t i = 0; i < n; i++) {
                if (i > 0 && record_compare(&records[i - 1], &records[i]) == 0)
                        return -EINVAL;
                /* A product's name is stored once, for its first feature. */
                if (i == 0 || !streq(records[i - 1].product, records[i].product))
                        strings_size += strlen(records[i].product) + 1;
                strings_size += strlen(records[i].feature) + 1;
        }
        if (n > (SNAPSHOT_MAX_SIZE - sizeof(SnapshotHeader)) / (sizeof(SnapshotEntry) + 2 * sizeof(uint32_t)))
                return -E2BIG;
        n_buckets = buckets_for(n);
        size = sizeof(SnapshotHeader) + n * sizeof(SnapshotEntry) + n_buckets * sizeof(uint32_t) + strings_size;
        if (size > SNAPSHOT_MAX_SIZE)
                return -E2BIG;

        buf = calloc(1, size);
        if (!buf)
                return -ENOMEM;
        h = (SnapshotHeader *) buf;
        entries = (SnapshotEntry *) (buf + sizeof(SnapshotHeader));
        buckets = (uint32_t *) (buf + sizeof(SnapshotHeader) + n * sizeof(SnapshotEntry));
        *h = (SnapshotHeader){
                .version = SNAPSHOT_VERSION,
                .header_size = sizeof(SnapshotHeader),
                .entry_size = sizeof(SnapshotEntry),
                .generation = info->generation,
                .size = size,
                .written_at = info->written_at,
                .time_high_water = info->time_high_water,
                .clock_tolerance = info->clock_tolerance,
                .n_entries = n,
                .entries_offset = sizeof(SnapshotHeader),
                .index_offset = sizeof(SnapshotHeader) + n * sizeof(SnapshotEntry),
                .n_buckets = n_buckets,
                .strings_offset = sizeof(SnapshotHeader) + n * sizeof(SnapshotEntry) + n_buckets * sizeof(uint32_t),
                .strings_size = strings_size,
        };
        memcpy(h->magic, SNAPSHOT_MAGIC, sizeof(h->magic));

        pos = 0;
        for (size_t i = 0; i < n; i++) {
                const SnapshotRecord *r = &records[i];
                char *strings = (char *) buf + h->strings_offset;
                size_t len;

                if (i == 0 || !streq(records[i - 1].product, r->product)) {
                        len = strlen(r->product) + 1;
                        memcpy(strings + pos, r->product, len);
                        entries[i].product = (uint32_t) pos;
                        pos += len;
                } else
                        entries[i].product = entries[i - 1].product;
                len = strlen(r->feature) + 1;
                memcpy(strings + pos, r->feature, len);
                entries[i].feature = (uint32_t) pos;
                pos += len;

                entries[i].reason = r->verdict.reason;
                entries[i].licensed = r->verdict.licensed;
                entries[i].expires = r->verdict.expires;
                entries[i].grace_end = r->verdict.grace_end;
                entries[i].valid_until = r->verdict.valid_until;
                entries[i].release_limit = r->release_limit;

                size_t b = snapshot_key_hash(r->product, strlen(r->product), r->feature, strlen(r->feature)) &
                           (n_buckets - 1);
                while (buckets[b] != 0)
                        b = (b + 1) & (n_buckets - 1);
                buckets[b] = (uint32_t) i + 1;
        }
        assert(pos == strings_size);
        h->checksum = snapshot_checksum(buf, size);

        *ret = buf;
        *ret_size = size;
        return 0;
}

/* The name at offset off, or NULL if it does not end inside the table. */
static const char *string_at(const Snapshot *s, uint32_t off) {
        if (off >= s->strings_size)
                return NULL;
        if (!memchr(s->strings + off, 0, s->strings_size - off))
                return NULL;
        return s->strings + off;
}

/* Bounded even if the mapped bytes changed after snapshot_open(): a bad
 * offset compares as "greater" and never reads past the table. */
static int name_compare(const Snapshot *s, uint32_t off, const char *name) {
        size_t n;
        int r;

        if (off >= s->strings_size)
                return 1;
        n = s->strings_size - off;
        r = strncmp(s->strings + off, name, n);
        /* Equal up to the end of the table without a NUL is no match. */
        if (r == 0 && !memchr(s->strings + off, 0, n))
                return 1;
        return r;
}

static int entry_compare(const Snapshot *s, const SnapshotEntry *e, const char *product,
                         const char *feature) {
        int r = name_compare(s, e->product, product);

        return r != 0 ? r : name_compare(s, e->feature, feature);
}

static bool entry_verdict_ok(const SnapshotEntry *e) {
        return e->reason >= 0 && e->reason < _REASON_MAX && e->licensed <= 1 &&
               (e->licensed == 1) == (e->reason == REASON_LICENSED || e->reason == REASON_GRACE);
}

/* Every entry is found from its hash before an empty bucket, and the index
 * names exactly n_entries entries, each within range: so each entry is in
 * it exactly once, and a lookup cannot loop or miss. */
static bool index_ok(const Snapshot *s) {
        size_t used = 0, mask = s->n_buckets - 1;

        for (size_t b = 0; b < s->n_buckets; b++) {
                if (s->buckets[b] > s->n_entries)
                        return false;
                used += s->buckets[b] != 0;
        }
        if (used != s->n_entries)
                return false;
        for (size_t i = 0; i < s->n_entries; i++) {
                const char *p = s->strings + s->entries[i].product, *f = s->strings + s->entries[i].feature;
                size_t b = snapshot_key_hash(p, strlen(p), f, strlen(f)) & mask, step;

                for (step = 0; step < s->n_buckets && s->buckets[b] != i + 1; step++) {
                        if (s->buckets[b] == 0)
                                return false;
                        b = (b + 1) & mask;
                }
                if (step == s->n_buckets)
                        return false;
        }
        return true;
}

int snapshot_open(const void *data, size_t size, Snapshot *ret) {
        const SnapshotHeader *h = data;
        Snapshot s;

        assert(data || size == 0);
        assert(ret);

        /* The mapping is page-aligned; bytes from anywhere else must be at
         * least 8-aligned for the 64-bit fields. */
        if (size < sizeof(SnapshotHeader) || size > SNAPSHOT_MAX_SIZE || (uintptr_t) data % 8 != 0)
                return -EBADMSG;
        if (memcmp(h->magic, SNAPSHOT_MAGIC, sizeof(h->magic)) != 0)
                return -EBADMSG;
        if (h->version != SNAPSHOT_VERSION)
                return -EPROTONOSUPPORT;
        if (h->header_size != sizeof(SnapshotHeader) || h->entry_size != sizeof(SnapshotEntry) ||
            h->size != size)
                return -EBADMSG;
        /* Entries right after the header, the index right after the
         * entries, strings right after the index, to the end of the file:
         * checked without overflow. */
        if (h->entries_offset != sizeof(SnapshotHeader) ||
            h->n_entries > (size - sizeof(SnapshotHeader)) / sizeof(SnapshotEntry) ||
            h->index_offset != h->entries_offset + h->n_entries * sizeof(SnapshotEntry) ||
            h->n_buckets > (size - h->index_offset) / sizeof(uint32_t) ||
            h->n_buckets != buckets_for(h->n_entries) ||
            h->strings_offset != h->index_offset + h->n_buckets * sizeof(uint32_t) ||
            h->strings_size != size - h->strings_offset)
                return -EBADMSG;
        if (snapshot_checksum(data, size) != h->checksum)
                return -EBADMSG;

        s = (Snapshot){
                .header = h,
                .entries = (const SnapshotEntry *) ((const uint8_t *) data + h->entries_offset),
                .n_entries = h->n_entries,
                .buckets = (const uint32_t *) ((const uint8_t *) data + h->index_offset),
                .n_buckets = h->n_buckets,
                .strings = (const char *) data + h->strings_offset,
                .strings_size = h->strings_size,
                .generation = h->generation,
                .written_at = h->written_at,
                .time_high_water = h->time_high_water,
                .clock_tolerance = h->clock_tolerance,
        };
        for (size_t i = 0; i < s.n_entries; i++) {
                const SnapshotEntry *e = &s.entries[i];

                if (!string_at(&s, e->product) || !string_at(&s, e->feature) ||
                    !names_ok(s.strings + e->product, s.strings + e->feature))
                        return -EBADMSG;
                if (!entry_verdict_ok(e))
                        return -EBADMSG;
                /* Strictly increasing, so the binary search finds the one entry. */
                if (i > 0 && entry_compare(&s, &s.entries[i - 1], s.strings + e->product,
                                           s.strings + e->feature) >= 0)
                        return -EBADMSG;
        }
        if (!index_ok(&s))
                return -EBADMSG;
        *ret = s;
        return 0;
}

/* Whether len bytes at a and b are equal: eight bytes a step and the last
 * word overlapping the one before, as hash_name() reads, instead of a call
 * to memcmp() for names that are mostly shorter than 32 bytes. Reads only
 * the len bytes of each. */
static inline __attribute__((always_inline)) bool bytes_equal(const char *a, const char *b, size_t len) {
        if (len >= 8) {
                for (size_t i = 0; i + 8 < len; i += 8)
                        if (load64(a + i) != load64(b + i))
                                return false;
                return load64(a + len - 8) == load64(b + len - 8);
        }
        if (len >= 4)
                return load32(a) == load32(b) && load32(a + len - 4) == load32(b + len - 4);
        for (size_t i = 0; i < len; i++)
                if (a[i] != b[i])
                        return false;
        return true;
}

/* Whether the name at off is exactly name (len bytes and a NUL); bounded by
 * the table even if the mapped bytes changed after snapshot_open(). */
static inline __attribute__((always_inline)) bool name_equal(const Snapshot *s, uint32_t off, const char *name,
                                                             size_t len) {
        return off < s->strings_size && len < s->strings_size - off && bytes_equal(s->strings + off, name, len) &&
               s->strings[off + len] == 0;
}

/* The entry for (product, feature) through the index, copied out with one
 * read of the mapped bytes (its names are then compared in that copy), or
 * -ENOENT. A probe visits at most every bucket once. */
static int find_entry(const Snapshot *s, const char *product, const char *feature, SnapshotEntry *ret) {
        size_t plen = strlen(product), flen = strlen(feature), mask = s->n_buckets - 1, b;

        if (s->n_buckets == 0)
                return -ENOENT;
        b = key_hash(product, plen, feature, flen) & mask; /* inline: this is every check */
        for (size_t step = 0; step < s->n_buckets; step++, b = (b + 1) & mask) {
                uint32_t i = s->buckets[b];

                if (i == 0)
                        return -ENOENT;
                if (i > s->n_entries)
                        return -EBADMSG; /* changed since snapshot_open() */
                memcpy(ret, &s->entries[i - 1], sizeof(*ret));
                if (name_equal(s, ret->product, product, plen) && name_equal(s, ret->feature, feature, flen))
                        return 0;
        }
        return -ENOENT;
}

int snapshot_lookup(const Snapshot *s, const char *product, const char *feature, int64_t release_date,
                    int64_t now, Verdict *ret) {
        SnapshotEntry e;
        int r;

        assert(s);
        assert(product);
        assert(feature);
        assert(ret);

        if (snapshot_superseded(s))
                return -ESTALE;
        /* A clock behind what the daemon already trusted: it answers
         * clock-rollback, or knows better. Checked before the age, which
         * would look young to a clock set back. */
        if (now < s->written_at - s->clock_tolerance || now < s->time_high_water - s->clock_tolerance)
                return -EDOM;
        if (now - s->written_at > SNAPSHOT_MAX_AGE)
                return -ESTALE;

        r = find_entry(s, product, feature, &e);
        if (r < 0)
                return r;
        if (!entry_verdict_ok(&e))
                return -EBADMSG;
        if (e.valid_until != TIME_UNSET && now >= e.valid_until)
                return -ETIME;
        if (release_date != TIME_UNSET && e.release_limit != TIME_UNSET && release_date > e.release_limit)
                return -ERANGE;

        *ret = (Verdict){
                .reason = (Reason) e.reason,
                .licensed = e.licensed,
                .expires = e.expires,
                .grace_end = e.grace_end,
                .valid_until = e.valid_until,
        };
        return 0;
}
