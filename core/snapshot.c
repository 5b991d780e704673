/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <stddef.h>

#include "macro.h"
#include "snapshot.h"

_Static_assert(sizeof(SnapshotHeader) == 104, "the header layout is part of the file format");
_Static_assert(sizeof(SnapshotEntry) == 48, "the entry layout is part of the file format");
_Static_assert(sizeof(SNAPSHOT_MAGIC) - 1 == sizeof(((SnapshotHeader *) NULL)->magic), "magic is 8 bytes");

#define FNV_OFFSET UINT64_C(0xcbf29ce484222325)
#define FNV_PRIME UINT64_C(0x100000001b3)

/* Longest product or feature name accepted in a snapshot. */
#define NAME_MAX_LEN 255

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

static int record_compare(const void *a, const void *b) {
        const SnapshotRecord *x = a, *y = b;
        int r = strcmp(x->product, y->product);

        return r != 0 ? r : strcmp(x->feature, y->feature);
}

static bool name_ok(const char *s) {
        return s && *s && strnlen(s, NAME_MAX_LEN + 1) <= NAME_MAX_LEN;
}

int snapshot_build(SnapshotRecord *records, size_t n, const SnapshotInfo *info, void **ret,
                   size_t *ret_size) {
        size_t strings_size = 0, size, pos;
        SnapshotHeader *h;
        SnapshotEntry *entries;
        uint8_t *buf;

        assert(records || n == 0);
        assert(info);
        assert(ret);
        assert(ret_size);

        for (size_t i = 0; i < n; i++)
                if (!name_ok(records[i].product) || !name_ok(records[i].feature))
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
        if (n > (SNAPSHOT_MAX_SIZE - sizeof(SnapshotHeader)) / sizeof(SnapshotEntry))
                return -E2BIG;
        size = sizeof(SnapshotHeader) + n * sizeof(SnapshotEntry) + strings_size;
        if (size > SNAPSHOT_MAX_SIZE)
                return -E2BIG;

        buf = calloc(1, size);
        if (!buf)
                return -ENOMEM;
        h = (SnapshotHeader *) buf;
        entries = (SnapshotEntry *) (buf + sizeof(SnapshotHeader));
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
                .strings_offset = sizeof(SnapshotHeader) + n * sizeof(SnapshotEntry),
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
        /* Entries right after the header, strings right after the entries,
         * to the end of the file: checked without overflow. */
        if (h->entries_offset != sizeof(SnapshotHeader) ||
            h->n_entries > (size - sizeof(SnapshotHeader)) / sizeof(SnapshotEntry) ||
            h->strings_offset != h->entries_offset + h->n_entries * sizeof(SnapshotEntry) ||
            h->strings_size != size - h->strings_offset)
                return -EBADMSG;
        if (snapshot_checksum(data, size) != h->checksum)
                return -EBADMSG;

        s = (Snapshot){
                .header = h,
                .entries = (const SnapshotEntry *) ((const uint8_t *) data + h->entries_offset),
                .n_entries = h->n_entries,
                .strings = (const char *) data + h->strings_offset,
                .strings_size = h->strings_size,
                .generation = h->generation,
                .written_at = h->written_at,
                .time_high_water = h->time_high_water,
                .clock_tolerance = h->clock_tolerance,
        };
        for (size_t i = 0; i < s.n_entries; i++) {
                const SnapshotEntry *e = &s.entries[i];

                if (!string_at(&s, e->product) || !string_at(&s, e->feature))
                        return -EBADMSG;
                if (!entry_verdict_ok(e))
                        return -EBADMSG;
                /* Strictly increasing, so the binary search finds the one entry. */
                if (i > 0 && entry_compare(&s, &s.entries[i - 1], s.strings + e->product,
                                           s.strings + e->feature) >= 0)
                        return -EBADMSG;
        }
        *ret = s;
        return 0;
}

bool snapshot_superseded(const Snapshot *s) {
        /* Written by the daemon while readers have the file mapped. */
        return __atomic_load_n(&s->header->superseded, __ATOMIC_ACQUIRE) != 0;
}

int snapshot_lookup(const Snapshot *s, const char *product, const char *feature, int64_t release_date,
                    int64_t now, Verdict *ret) {
        SnapshotEntry e;
        size_t lo = 0, hi;
        bool found = false;

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

        hi = s->n_entries;
        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                int c = entry_compare(s, &s->entries[mid], product, feature);

                if (c == 0) {
                        /* One read of the mapped bytes, then checked again. */
                        memcpy(&e, &s->entries[mid], sizeof(e));
                        found = true;
                        break;
                }
                if (c < 0)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        if (!found)
                return -ENOENT;
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
