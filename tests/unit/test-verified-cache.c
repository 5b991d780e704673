/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The verified-license cache (core/verified-cache.c): a digest binds the
 * trust key and the exact bytes; the set reads back as written; and every
 * truncation, every flipped bit and every file out of order is refused,
 * never read as a smaller or different set. */
#include "test-util.h"
#include "verified-cache.h"

static const uint8_t key_a[ED25519_PUBLIC_KEY_SIZE] = {1, 2, 3};
static const uint8_t key_b[ED25519_PUBLIC_KEY_SIZE] = {1, 2, 4};

static VerifiedDigest digest(const uint8_t *key, const char *text) {
        VerifiedDigest d;

        assert_int_equal(verified_digest(key, text, strlen(text), &d), 0);
        return d;
}

/* A sealed cache of n digests of made-up license texts. */
static void make(VerifiedCache *c, unsigned n) {
        *c = (VerifiedCache) {};
        for (unsigned i = 0; i < n; i++) {
                char text[64];
                VerifiedDigest d;

                snprintf(text, sizeof(text), "license %u", n - i); /* added out of order */
                d = digest(key_a, text);
                assert_int_equal(verified_cache_add(c, &d), 0);
        }
        verified_cache_seal(c);
}

/* A copy in a buffer of exactly size bytes, so ASan sees any overread. */
static int parse_copy(const void *data, size_t size, VerifiedCache *ret) {
        _cleanup_free_ void *copy = malloc(size ?: 1);
        assert_non_null(copy);
        memcpy(copy, data, size);
        return verified_cache_parse(copy, size, ret);
}

static void test_digest_binds_key_and_bytes(void **state) {
        VerifiedDigest a = digest(key_a, "text"), b = digest(key_b, "text"), c = digest(key_a, "texT"),
                       d = digest(key_a, "text");

        assert_memory_not_equal(&a, &b, sizeof(a));
        assert_memory_not_equal(&a, &c, sizeof(a));
        assert_memory_equal(&a, &d, sizeof(a));
}

static void test_round_trip(void **state) {
        static const unsigned sizes[] = {0, 1, 2, 100};

        for (size_t k = 0; k < ELEMENTSOF(sizes); k++) {
                _cleanup_(verified_cache_done) VerifiedCache c = {}, back = {};
                _cleanup_free_ void *data = NULL;
                size_t size;

                make(&c, sizes[k]);
                assert_int_equal(c.n, sizes[k]);
                assert_int_equal(verified_cache_format(&c, &data, &size), 0);
                assert_int_equal(size, VERIFIED_CACHE_SIZE(sizes[k]));
                assert_int_equal(parse_copy(data, size, &back), 0);
                assert_true(verified_cache_equal(&c, &back));
                for (size_t i = 0; i < c.n; i++)
                        assert_true(verified_cache_contains(&back, &c.digests[i]));
        }
}

static void test_contains_and_seal(void **state) {
        _cleanup_(verified_cache_done) VerifiedCache c = {};
        VerifiedDigest one = digest(key_a, "one"), two = digest(key_a, "two"), other = digest(key_b, "one");

        assert_false(verified_cache_contains(&c, &one));
        assert_int_equal(verified_cache_add(&c, &two), 0);
        assert_int_equal(verified_cache_add(&c, &one), 0);
        assert_int_equal(verified_cache_add(&c, &two), 0);
        verified_cache_seal(&c);
        assert_int_equal(c.n, 2); /* the repeat dropped */
        assert_true(verified_cache_contains(&c, &one));
        assert_true(verified_cache_contains(&c, &two));
        assert_false(verified_cache_contains(&c, &other));
}

static void test_every_truncation_is_refused(void **state) {
        _cleanup_(verified_cache_done) VerifiedCache c = {};
        _cleanup_free_ void *data = NULL;
        size_t size;

        make(&c, 5);
        assert_int_equal(verified_cache_format(&c, &data, &size), 0);
        for (size_t n = 0; n < size; n++) {
                VerifiedCache back = {};
                assert_int_equal(parse_copy(data, n, &back), -EBADMSG);
                assert_null(back.digests);
        }
}

static void test_every_bit_flip_is_refused(void **state) {
        _cleanup_(verified_cache_done) VerifiedCache c = {};
        _cleanup_free_ uint8_t *data = NULL;
        size_t size;

        make(&c, 4);
        assert_int_equal(verified_cache_format(&c, (void **) &data, &size), 0);
        for (size_t i = 0; i < size * 8; i++) {
                VerifiedCache back = {};

                data[i / 8] ^= (uint8_t) (1u << (i % 8));
                assert_int_equal(parse_copy(data, size, &back), -EBADMSG);
                data[i / 8] ^= (uint8_t) (1u << (i % 8));
        }
}

/* Another writer's file with a correct checksum is still refused when its
 * digests are out of order or its count disagrees with its size. */
static void test_order_and_count_are_checked(void **state) {
        _cleanup_(verified_cache_done) VerifiedCache c = {}, back = {};
        _cleanup_free_ uint8_t *data = NULL, *longer = NULL;
        VerifiedDigest tmp;
        uint64_t count;
        size_t size;

        make(&c, 3);
        tmp = c.digests[0];
        c.digests[0] = c.digests[1];
        c.digests[1] = tmp;
        assert_int_equal(verified_cache_format(&c, (void **) &data, &size), 0);
        assert_int_equal(parse_copy(data, size, &back), -EBADMSG);

        c.digests[1] = c.digests[0]; /* a repeat */
        free(data);
        data = NULL;
        assert_int_equal(verified_cache_format(&c, (void **) &data, &size), 0);
        assert_int_equal(parse_copy(data, size, &back), -EBADMSG);

        /* A count beyond the bound, with a checksum that matches. */
        longer = calloc(1, VERIFIED_CACHE_SIZE(0));
        assert_non_null(longer);
        memcpy(longer, VERIFIED_CACHE_MAGIC, 8);
        count = VERIFIED_CACHE_MAX_ENTRIES + 1;
        memcpy(longer + 8, &count, sizeof(count));
        assert_int_equal(parse_copy(longer, VERIFIED_CACHE_SIZE(0), &back), -EBADMSG);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_digest_binds_key_and_bytes),
                cmocka_unit_test(test_round_trip),
                cmocka_unit_test(test_contains_and_seal),
                cmocka_unit_test(test_every_truncation_is_refused),
                cmocka_unit_test(test_every_bit_flip_is_refused),
                cmocka_unit_test(test_order_and_count_are_checked),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
