/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The fast-path snapshot: what the daemon writes reads back the same, and a
 * reader refuses every damaged file and every answer the clock rules out. */
#include "test-util.h"
#include "snapshot.h"

#define TOLERANCE SEC_PER_HOUR
#define WRITTEN T0

#define REC(p, f, ...)                                                                                      \
        { .product = (p), .feature = (f), .verdict = {__VA_ARGS__}, .release_limit = 0 }

/* Deliberately unsorted: the writer sorts. */
static SnapshotRecord records_template[] = {
        REC("com.example.app", "reports", .reason = REASON_LICENSED, .licensed = true,
            .expires = T0 + 365 * SEC_PER_DAY, .valid_until = T0 + 10 * SEC_PER_DAY),
        REC("com.example.app", "export", .reason = REASON_FEATURE_EXPIRED),
        REC("com.acme.tool", "basic", .reason = REASON_GRACE, .licensed = true,
            .grace_end = T0 + 3 * SEC_PER_DAY, .valid_until = T0 + 3 * SEC_PER_DAY),
        {.product = "com.example.app",
         .feature = "analytics",
         .verdict = {.reason = REASON_LICENSED, .licensed = true},
         .release_limit = T0 + 180 * SEC_PER_DAY},
};

static const SnapshotInfo info = {
        .generation = 7,
        .written_at = WRITTEN,
        .time_high_water = WRITTEN,
        .clock_tolerance = TOLERANCE,
};

static void build(void **ret, size_t *ret_size) {
        SnapshotRecord records[ELEMENTSOF(records_template)];

        memcpy(records, records_template, sizeof(records));
        assert_int_equal(snapshot_build(records, ELEMENTSOF(records), &info, ret, ret_size), 0);
}

/* A copy in a buffer of exactly size bytes, so ASan sees any overread. */
static void *copy(const void *data, size_t size) {
        void *p = malloc(size ?: 1);
        assert_non_null(p);
        memcpy(p, data, size);
        return p;
}

static void reseal(void *data, size_t size) {
        SnapshotHeader *h = data;
        h->checksum = snapshot_checksum(data, size);
}

static int open_and_lookup(const void *data, size_t size, const char *product, const char *feature,
                           int64_t release, int64_t now, Verdict *v) {
        Snapshot s;
        int r = snapshot_open(data, size, &s);
        return r < 0 ? r : snapshot_lookup(&s, product, feature, release, now, v);
}

static void test_round_trip(void **state) {
        _cleanup_free_ void *data = NULL;
        size_t size;
        Snapshot s;
        Verdict v;

        build(&data, &size);
        assert_int_equal(snapshot_open(data, size, &s), 0);
        assert_int_equal(s.n_entries, ELEMENTSOF(records_template));
        assert_int_equal(s.generation, 7);
        assert_false(snapshot_superseded(&s));

        for (size_t i = 0; i < ELEMENTSOF(records_template); i++) {
                const SnapshotRecord *r = &records_template[i];
                assert_int_equal(snapshot_lookup(&s, r->product, r->feature, TIME_UNSET, WRITTEN + 1, &v),
                                 0);
                assert_int_equal(v.reason, r->verdict.reason);
                assert_int_equal(v.licensed, r->verdict.licensed);
                assert_int_equal(v.expires, r->verdict.expires);
                assert_int_equal(v.grace_end, r->verdict.grace_end);
                assert_int_equal(v.valid_until, r->verdict.valid_until);
        }
        /* Not listed: the daemon answers (not-installed, or bad arguments). */
        assert_int_equal(snapshot_lookup(&s, "com.example.app", "nope", TIME_UNSET, WRITTEN, &v), -ENOENT);
        assert_int_equal(snapshot_lookup(&s, "com.other", "reports", TIME_UNSET, WRITTEN, &v), -ENOENT);
        assert_int_equal(snapshot_lookup(&s, "", "", TIME_UNSET, WRITTEN, &v), -ENOENT);
        assert_int_equal(snapshot_lookup(&s, "com.example.ap", "reports", TIME_UNSET, WRITTEN, &v), -ENOENT);
}

static void test_empty(void **state) {
        _cleanup_free_ void *data = NULL;
        size_t size;
        Verdict v;

        assert_int_equal(snapshot_build(NULL, 0, &info, &data, &size), 0);
        assert_int_equal(size, sizeof(SnapshotHeader));
        assert_int_equal(open_and_lookup(data, size, "com.example.app", "reports", 0, WRITTEN, &v), -ENOENT);
}

static void test_build_refuses(void **state) {
        SnapshotRecord dup[] = {REC("com.a", "x", 0), REC("com.b", "y", 0), REC("com.a", "x", 0)};
        SnapshotRecord empty[] = {REC("com.a", "", 0)};
        SnapshotRecord null[] = {REC(NULL, "x", 0)};
        void *data = NULL;
        size_t size;

        assert_int_equal(snapshot_build(dup, ELEMENTSOF(dup), &info, &data, &size), -EINVAL);
        assert_int_equal(snapshot_build(empty, ELEMENTSOF(empty), &info, &data, &size), -EINVAL);
        assert_int_equal(snapshot_build(null, ELEMENTSOF(null), &info, &data, &size), -EINVAL);
        assert_null(data);
}

static void test_truncation(void **state) {
        _cleanup_free_ void *data = NULL;
        size_t size;
        Snapshot s;

        build(&data, &size);
        for (size_t n = 0; n < size; n++) {
                _cleanup_free_ void *p = copy(data, n);
                assert_int_equal(snapshot_open(p, n, &s), -EBADMSG);
        }
        /* and one byte too many */
        _cleanup_free_ uint8_t *longer = calloc(1, size + 1);
        memcpy(longer, data, size);
        assert_int_equal(snapshot_open(longer, size + 1, &s), -EBADMSG);
}

static void test_every_bit_flip(void **state) {
        _cleanup_free_ uint8_t *data = NULL;
        size_t size, superseded = offsetof(SnapshotHeader, superseded);
        Snapshot s;

        build((void **) &data, &size);
        for (size_t i = 0; i < size; i++) {
                /* the one field the daemon changes in place; see test_superseded */
                if (i >= superseded && i < superseded + sizeof(uint32_t))
                        continue;
                for (int bit = 0; bit < 8; bit++) {
                        data[i] ^= (uint8_t) (1u << bit);
                        int r = snapshot_open(data, size, &s);
                        assert_true(r == -EBADMSG || r == -EPROTONOSUPPORT);
                        data[i] ^= (uint8_t) (1u << bit);
                }
        }
        assert_int_equal(snapshot_open(data, size, &s), 0);
}

static void test_wrong_version(void **state) {
        _cleanup_free_ void *data = NULL;
        size_t size;
        Snapshot s;

        build(&data, &size);
        ((SnapshotHeader *) data)->version = SNAPSHOT_VERSION + 1;
        reseal(data, size);
        assert_int_equal(snapshot_open(data, size, &s), -EPROTONOSUPPORT);
        /* the other byte order looks like a wrong version */
        ((SnapshotHeader *) data)->version = __builtin_bswap32(SNAPSHOT_VERSION);
        reseal(data, size);
        assert_int_equal(snapshot_open(data, size, &s), -EPROTONOSUPPORT);
        memcpy(((SnapshotHeader *) data)->magic, "LICDSNAQ", 8);
        reseal(data, size);
        assert_int_equal(snapshot_open(data, size, &s), -EBADMSG);
}

/* Damage with a valid checksum: the structure checks alone must catch it. */
typedef void (*Tamper)(uint8_t *data, size_t size);

static SnapshotHeader *H(uint8_t *d) {
        return (SnapshotHeader *) d;
}
static SnapshotEntry *E(uint8_t *d, size_t i) {
        return (SnapshotEntry *) (d + sizeof(SnapshotHeader)) + i;
}

static void t_header_size(uint8_t *d, size_t n) {
        H(d)->header_size = 96;
}
static void t_entry_size(uint8_t *d, size_t n) {
        H(d)->entry_size = 56;
}
static void t_size(uint8_t *d, size_t n) {
        H(d)->size = n - 1;
}
static void t_n_entries_huge(uint8_t *d, size_t n) {
        H(d)->n_entries = UINT64_MAX / 8;
}
static void t_n_entries_more(uint8_t *d, size_t n) {
        H(d)->n_entries += 1;
}
static void t_n_entries_less(uint8_t *d, size_t n) {
        H(d)->n_entries -= 1;
}
static void t_entries_offset(uint8_t *d, size_t n) {
        H(d)->entries_offset += 8;
}
static void t_strings_offset(uint8_t *d, size_t n) {
        H(d)->strings_offset = UINT64_MAX - 3;
}
static void t_strings_size(uint8_t *d, size_t n) {
        H(d)->strings_size += 1;
}
static void t_product_offset(uint8_t *d, size_t n) {
        E(d, 1)->product = (uint32_t) H(d)->strings_size;
}
static void t_feature_offset(uint8_t *d, size_t n) {
        E(d, 0)->feature = UINT32_MAX;
}
static void t_unterminated(uint8_t *d, size_t n) {
        d[n - 1] = 'x';
}
static void t_order(uint8_t *d, size_t n) {
        SnapshotEntry tmp = *E(d, 0);
        *E(d, 0) = *E(d, 1);
        *E(d, 1) = tmp;
}
static void t_duplicate(uint8_t *d, size_t n) {
        *E(d, 1) = *E(d, 0);
}
static uint32_t *B(uint8_t *d) {
        return (uint32_t *) (d + H(d)->index_offset);
}
/* The first empty and the first used bucket. */
static size_t bucket_where(uint8_t *d, bool used) {
        for (size_t b = 0; b < H(d)->n_buckets; b++)
                if ((B(d)[b] != 0) == used)
                        return b;
        fail();
        return 0;
}
static void t_bucket_out_of_range(uint8_t *d, size_t n) {
        B(d)[bucket_where(d, true)] = (uint32_t) H(d)->n_entries + 1;
}
static void t_bucket_cleared(uint8_t *d, size_t n) {
        B(d)[bucket_where(d, true)] = 0;
}
static void t_bucket_twice(uint8_t *d, size_t n) {
        B(d)[bucket_where(d, false)] = B(d)[bucket_where(d, true)];
}
static void t_buckets_swapped(uint8_t *d, size_t n) {
        /* every entry listed once, but (some) not where a probe finds it */
        for (size_t b = 0; b + 1 < H(d)->n_buckets; b += 2) {
                uint32_t tmp = B(d)[b];
                B(d)[b] = B(d)[b + 1];
                B(d)[b + 1] = tmp;
        }
}
static void t_n_buckets(uint8_t *d, size_t n) {
        H(d)->n_buckets *= 2;
}
static void t_index_offset(uint8_t *d, size_t n) {
        H(d)->index_offset += 8;
}
static void t_name_not_valid(uint8_t *d, size_t n) {
        /* "com.acme.tool" sorts first: still in order, but not a product id */
        char *name = (char *) d + H(d)->strings_offset + E(d, 0)->product;
        name[0] = 'C';
}
static void t_reason(uint8_t *d, size_t n) {
        E(d, 0)->reason = _REASON_MAX;
}
static void t_reason_negative(uint8_t *d, size_t n) {
        E(d, 0)->reason = -1;
}
static void t_licensed_value(uint8_t *d, size_t n) {
        E(d, 0)->licensed = 2;
}
static void t_licensed_mismatch(uint8_t *d, size_t n) {
        E(d, 0)->licensed ^= 1;
}

static void test_bad_structure(void **state) {
        static const struct {
                const char *name;
                Tamper tamper;
        } cases[] = {
                {"header size", t_header_size},
                {"entry size", t_entry_size},
                {"size field", t_size},
                {"n_entries huge", t_n_entries_huge},
                {"n_entries +1", t_n_entries_more},
                {"n_entries -1", t_n_entries_less},
                {"entries offset", t_entries_offset},
                {"strings offset", t_strings_offset},
                {"strings size", t_strings_size},
                {"product offset at the end", t_product_offset},
                {"feature offset huge", t_feature_offset},
                {"last name unterminated", t_unterminated},
                {"entries out of order", t_order},
                {"duplicate entry", t_duplicate},
                {"reason too large", t_reason},
                {"reason negative", t_reason_negative},
                {"licensed not 0/1", t_licensed_value},
                {"licensed contradicts reason", t_licensed_mismatch},
                {"bucket names no entry", t_bucket_out_of_range},
                {"entry missing from the index", t_bucket_cleared},
                {"entry twice in the index", t_bucket_twice},
                {"entries where no probe finds them", t_buckets_swapped},
                {"bucket count", t_n_buckets},
                {"index offset", t_index_offset},
                {"name that is not a product id", t_name_not_valid},
        };
        _cleanup_free_ uint8_t *data = NULL;
        size_t size;
        Snapshot s;

        build((void **) &data, &size);
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_free_ uint8_t *p = copy(data, size);
                cases[i].tamper(p, size);
                reseal(p, size);
                print_message("%s\n", cases[i].name);
                assert_int_equal(snapshot_open(p, size, &s), -EBADMSG);
        }
        /* bytes that are not 8-aligned */
        _cleanup_free_ uint8_t *unaligned = malloc(size + 1);
        memcpy(unaligned + 1, data, size);
        assert_int_equal(snapshot_open(unaligned + 1, size, &s), -EBADMSG);
}

/* Bytes that change after snapshot_open() (a file modified in place) make
 * lookups miss or refuse, never read outside the file. */
static void test_changed_after_open(void **state) {
        _cleanup_free_ uint8_t *data = NULL;
        size_t size;
        Snapshot s;
        Verdict v;

        build((void **) &data, &size);
        assert_int_equal(snapshot_open(data, size, &s), 0);
        E(data, 0)->reason = 1000;
        E(data, 0)->licensed = 7;
        assert_int_equal(snapshot_lookup(&s, "com.acme.tool", "basic", 0, WRITTEN, &v), -EBADMSG);
        for (size_t i = 0; i < s.n_entries; i++) {
                E(data, i)->product = UINT32_MAX;
                E(data, i)->feature = (uint32_t) s.strings_size - 1;
        }
        H(data)->strings_size = UINT64_MAX;
        H(data)->n_entries = UINT64_MAX;
        assert_int_equal(snapshot_lookup(&s, "com.example.app", "reports", 0, WRITTEN, &v), -ENOENT);
        /* names that run to the end of the table without a NUL */
        memset(data + (s.strings - (const char *) data), 'z', s.strings_size);
        for (size_t i = 0; i < s.n_entries; i++)
                E(data, i)->product = E(data, i)->feature = 0;
        assert_int_equal(
                snapshot_lookup(
                        &s, "zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz",
                        "zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz", 0,
                        WRITTEN, &v),
                -ENOENT);
}

/* An index that changes after snapshot_open() cannot make a lookup read
 * outside the entries or probe forever. */
static void test_index_changed_after_open(void **state) {
        _cleanup_free_ uint8_t *data = NULL;
        size_t size;
        Snapshot s;
        Verdict v;
        int r;

        build((void **) &data, &size);
        assert_int_equal(snapshot_open(data, size, &s), 0);
        for (size_t b = 0; b < s.n_buckets; b++)
                B(data)[b] = UINT32_MAX;
        r = snapshot_lookup(&s, "com.example.app", "reports", 0, WRITTEN, &v);
        assert_true(r == -EBADMSG || r == -ENOENT);
        /* no empty bucket left, each naming the same entry */
        for (size_t b = 0; b < s.n_buckets; b++)
                B(data)[b] = 1;
        assert_int_equal(snapshot_lookup(&s, "com.example.app", "nope", 0, WRITTEN, &v), -ENOENT);
        assert_int_equal(snapshot_lookup(&s, "com.acme.tool", "basic", 0, WRITTEN, &v), 0);
}

static void test_build_refuses_invalid_names(void **state) {
        SnapshotRecord upper[] = {REC("com.Example", "x", 0)};
        SnapshotRecord space[] = {REC("com.example", "two words", 0)};
        SnapshotRecord dash[] = {REC("-com.example", "x", 0)};
        void *data = NULL;
        size_t size;

        assert_int_equal(snapshot_build(upper, 1, &info, &data, &size), -EINVAL);
        assert_int_equal(snapshot_build(space, 1, &info, &data, &size), -EINVAL);
        assert_int_equal(snapshot_build(dash, 1, &info, &data, &size), -EINVAL);
        assert_null(data);
}

/* Different splits of the same bytes, and every length from 0 to 40 read
 * from buffers of exactly that size (ASan sees any read past the name). */
static void test_key_hash(void **state) {
        uint64_t seen[41];

        assert_int_not_equal(snapshot_key_hash("ab", 2, "c", 1), snapshot_key_hash("a", 1, "bc", 2));
        assert_int_not_equal(snapshot_key_hash("", 0, "abc", 3), snapshot_key_hash("abc", 3, "", 0));
        for (size_t len = 0; len <= 40; len++) {
                _cleanup_free_ char *p = malloc(len ?: 1);
                assert_non_null(p);
                memset(p, 'a', len);
                seen[len] = snapshot_key_hash(p, len, "f", 1);
                assert_int_equal(seen[len], snapshot_key_hash(p, len, "f", 1));
                for (size_t j = 0; j < len; j++)
                        assert_int_not_equal(seen[j], seen[len]);
        }
}

static void test_superseded(void **state) {
        _cleanup_free_ void *data = NULL;
        size_t size;
        Snapshot s;
        Verdict v;

        build(&data, &size);
        assert_int_equal(snapshot_open(data, size, &s), 0);
        assert_int_equal(snapshot_lookup(&s, "com.example.app", "reports", 0, WRITTEN, &v), 0);
        /* the daemon marks the old file after renaming a new one over it */
        ((SnapshotHeader *) data)->superseded = 1;
        assert_true(snapshot_superseded(&s));
        assert_int_equal(snapshot_lookup(&s, "com.example.app", "reports", 0, WRITTEN, &v), -ESTALE);
        /* not covered by the checksum: a reader mapping it now still opens it */
        assert_int_equal(snapshot_open(data, size, &s), 0);
        assert_int_equal(snapshot_lookup(&s, "com.example.app", "reports", 0, WRITTEN, &v), -ESTALE);
}

typedef struct TimeCase {
        const char *name;
        const char *feature;
        int64_t now;
        int64_t release;
        int expect;
} TimeCase;

static void test_clock_rules(void **state) {
        static const TimeCase cases[] = {
                /* valid_until of reports: T0 + 10d; but the file's age ends first */
                {"fresh", "reports", WRITTEN, 0, 0},
                {"1s before max age", "reports", WRITTEN + SNAPSHOT_MAX_AGE, 0, 0},
                {"past max age", "reports", WRITTEN + SNAPSHOT_MAX_AGE + 1, 0, -ESTALE},
                {"far future", "reports", WRITTEN + 400 * SEC_PER_DAY, 0, -ESTALE},
                /* rollback: behind written_at by more than the tolerance */
                {"within tolerance", "reports", WRITTEN - TOLERANCE, 0, 0},
                {"rolled back", "reports", WRITTEN - TOLERANCE - 1, 0, -EDOM},
                {"rolled back far", "reports", 1000, 0, -EDOM},
                /* release dates against the release limit (analytics: T0 + 180d) */
                {"release on the limit", "analytics", WRITTEN, T0 + 180 * SEC_PER_DAY, 0},
                {"release after the limit", "analytics", WRITTEN, T0 + 180 * SEC_PER_DAY + 1, -ERANGE},
                {"no release date", "analytics", WRITTEN, 0, 0},
                {"no limit", "reports", WRITTEN, T0 + 9999 * SEC_PER_DAY, 0},
        };
        _cleanup_free_ void *data = NULL;
        size_t size;
        Verdict v;

        build(&data, &size);
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                const TimeCase *c = &cases[i];
                print_message("%s\n", c->name);
                assert_int_equal(
                        open_and_lookup(data, size, "com.example.app", c->feature, c->release, c->now, &v),
                        c->expect);
        }
}

/* An entry holds only until its valid_until, however young the file. */
static void test_expiry_by_valid_until(void **state) {
        SnapshotRecord r[] = {
                REC("com.example.app", "trial", .reason = REASON_LICENSED, .licensed = true,
                    .expires = T0 + 60, .valid_until = T0 + 60),
                REC("com.example.app", "forever", .reason = REASON_LICENSED, .licensed = true),
        };
        _cleanup_free_ void *data = NULL;
        size_t size;
        Verdict v;

        assert_int_equal(snapshot_build(r, ELEMENTSOF(r), &info, &data, &size), 0);
        assert_int_equal(open_and_lookup(data, size, "com.example.app", "trial", 0, T0 + 59, &v), 0);
        assert_true(v.licensed);
        assert_int_equal(open_and_lookup(data, size, "com.example.app", "trial", 0, T0 + 60, &v), -ETIME);
        assert_int_equal(open_and_lookup(data, size, "com.example.app", "trial", 0, T0 + 61, &v), -ETIME);
        /* 0: until the next state change, which rewrites the file */
        assert_int_equal(open_and_lookup(data, size, "com.example.app", "forever", 0, T0 + 3000, &v), 0);
}

/* The daemon's high-water mark may be ahead of written_at (a clock that was
 * set back since): a clock behind the mark is a rollback too. */
static void test_rollback_against_high_water(void **state) {
        SnapshotInfo i = info;
        _cleanup_free_ void *data = NULL;
        size_t size;
        Verdict v;

        i.time_high_water = WRITTEN + 2 * TOLERANCE;
        assert_int_equal(snapshot_build(NULL, 0, &i, &data, &size), 0);
        assert_int_equal(open_and_lookup(data, size, "a", "b", 0, WRITTEN + TOLERANCE - 1, &v), -EDOM);
        assert_int_equal(open_and_lookup(data, size, "a", "b", 0, WRITTEN + TOLERANCE, &v), -ENOENT);
}

static void test_many_entries(void **state) {
        enum { N = 2000 };
        SnapshotRecord *r = calloc(N, sizeof(*r));
        char(*names)[16] = calloc(N, 16);
        _cleanup_free_ void *data = NULL;
        size_t size;
        Snapshot s;
        Verdict v;

        assert_non_null(r);
        assert_non_null(names);
        for (int i = 0; i < N; i++) {
                snprintf(names[i], 16, "f%d", (i * 7919) % N);
                r[i] = (SnapshotRecord) REC(i % 2 ? "com.odd" : "com.even", names[i],
                                            .reason = REASON_LICENSED, .licensed = true, .expires = i);
        }
        assert_int_equal(snapshot_build(r, N, &info, &data, &size), 0);
        assert_int_equal(snapshot_open(data, size, &s), 0);
        for (int i = 0; i < N; i++) {
                char f[16];
                snprintf(f, sizeof(f), "f%d", (i * 7919) % N);
                assert_int_equal(snapshot_lookup(&s, i % 2 ? "com.odd" : "com.even", f, 0, WRITTEN, &v), 0);
                assert_int_equal(v.expires, i);
                /* a miss ends at an empty bucket, not after the whole table */
                snprintf(f, sizeof(f), "g%d", i);
                assert_int_equal(snapshot_lookup(&s, "com.odd", f, 0, WRITTEN, &v), -ENOENT);
        }
        assert_int_equal(s.n_buckets, 4096);
        free(r);
        free(names);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_round_trip),
                cmocka_unit_test(test_empty),
                cmocka_unit_test(test_build_refuses),
                cmocka_unit_test(test_truncation),
                cmocka_unit_test(test_every_bit_flip),
                cmocka_unit_test(test_wrong_version),
                cmocka_unit_test(test_bad_structure),
                cmocka_unit_test(test_changed_after_open),
                cmocka_unit_test(test_index_changed_after_open),
                cmocka_unit_test(test_build_refuses_invalid_names),
                cmocka_unit_test(test_key_hash),
                cmocka_unit_test(test_superseded),
                cmocka_unit_test(test_clock_rules),
                cmocka_unit_test(test_expiry_by_valid_until),
                cmocka_unit_test(test_rollback_against_high_water),
                cmocka_unit_test(test_many_entries),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
