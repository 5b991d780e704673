/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>

#include "hashmap.h"
#include "test-util.h"

static void test_put_get_remove(void **state) {
        Hashmap h = {};
        int a = 1, b = 2;

        /* an empty map has no slots and answers NULL */
        assert_null(hashmap_get(&h, "x"));
        assert_null(hashmap_remove(&h, "x"));

        assert_int_equal(hashmap_put(&h, "x", &a), 0);
        assert_int_equal(hashmap_put(&h, "y", &b), 0);
        assert_ptr_equal(hashmap_get(&h, "x"), &a);
        assert_ptr_equal(hashmap_get(&h, "y"), &b);
        assert_null(hashmap_get(&h, "z"));
        assert_int_equal(h.n_items, 2);

        /* put replaces, and takes the new key (the old one may be freed) */
        char key[] = "x";
        assert_int_equal(hashmap_put(&h, key, &b), 0);
        assert_ptr_equal(hashmap_get(&h, "x"), &b);
        assert_int_equal(h.n_items, 2);

        assert_ptr_equal(hashmap_remove(&h, "x"), &b);
        assert_null(hashmap_get(&h, "x"));
        assert_null(hashmap_remove(&h, "x"));
        assert_ptr_equal(hashmap_get(&h, "y"), &b);
        assert_int_equal(h.n_items, 1);

        hashmap_done(&h);
        assert_int_equal(h.n_slots, 0);
        assert_null(hashmap_get(&h, "y"));
}

/* Many keys, many removals: growth keeps every item reachable and the
 * tombstones do not make lookups fail or the table fill up. */
static void test_many(void **state) {
        enum { N = 5000 };
        static char keys[N][16];
        Hashmap h = {};

        for (int i = 0; i < N; i++) {
                snprintf(keys[i], sizeof(keys[i]), "key-%d", i);
                assert_int_equal(hashmap_put(&h, keys[i], keys[i]), 0);
        }
        assert_int_equal(h.n_items, N);
        assert_true(h.n_items * 4 <= h.n_slots * 3);
        for (int i = 0; i < N; i++)
                assert_ptr_equal(hashmap_get(&h, keys[i]), keys[i]);

        for (int round = 0; round < 4; round++) {
                for (int i = round % 2; i < N; i += 2)
                        assert_ptr_equal(hashmap_remove(&h, keys[i]), keys[i]);
                for (int i = 0; i < N; i++)
                        assert_ptr_equal(hashmap_get(&h, keys[i]), i % 2 == round % 2 ? NULL : keys[i]);
                for (int i = round % 2; i < N; i += 2)
                        assert_int_equal(hashmap_put(&h, keys[i], keys[i]), 0);
                assert_int_equal(h.n_items, N);
                assert_true(h.n_used * 4 <= h.n_slots * 3);
        }
        hashmap_done(&h);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_put_get_remove),
                cmocka_unit_test(test_many),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
