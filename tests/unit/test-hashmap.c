/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>

#include "hashmap.h"
#include "test-util.h"

/* The items carry their keys, as the daemon's do. */
typedef struct Item {
        char key[16];
        int value;
} Item;

static const char *item_key(const void *item) {
        return ((const Item *) item)->key;
}

static void test_put_get_remove(void **state) {
        Hashmap h = {};
        Item a = {"x", 1}, b = {"y", 2}, a2 = {"x", 3};

        /* an empty (zeroed) map has no slots and answers NULL */
        assert_null(hashmap_get(&h, "x", item_key));
        assert_null(hashmap_remove(&h, "x", item_key));
        assert_null(hashmap_slot_item(&h, 0));

        assert_int_equal(hashmap_put(&h, &a, item_key), 0);
        assert_int_equal(hashmap_put(&h, &b, item_key), 0);
        assert_ptr_equal(hashmap_get(&h, "x", item_key), &a);
        assert_ptr_equal(hashmap_get(&h, "y", item_key), &b);
        assert_null(hashmap_get(&h, "z", item_key));
        assert_int_equal(h.n_items, 2);

        /* put of an item with a key already there takes that item's place
         * (the old one, and its key, may be freed) */
        assert_int_equal(hashmap_put(&h, &a2, item_key), 0);
        assert_ptr_equal(hashmap_get(&h, "x", item_key), &a2);
        assert_int_equal(h.n_items, 2);

        /* every item is visited once through the slots */
        int seen = 0;
        for (size_t i = 0; i < h.n_slots; i++) {
                Item *it = hashmap_slot_item(&h, i);
                if (it)
                        seen += it->value;
        }
        assert_int_equal(seen, 3 + 2);

        assert_ptr_equal(hashmap_remove(&h, "x", item_key), &a2);
        assert_null(hashmap_get(&h, "x", item_key));
        assert_null(hashmap_remove(&h, "x", item_key));
        assert_ptr_equal(hashmap_get(&h, "y", item_key), &b);
        assert_int_equal(h.n_items, 1);
        /* a removed slot is not an item */
        seen = 0;
        for (size_t i = 0; i < h.n_slots; i++)
                seen += hashmap_slot_item(&h, i) != NULL;
        assert_int_equal(seen, 1);

        hashmap_done(&h);
        assert_int_equal(h.n_slots, 0);
        assert_null(hashmap_get(&h, "y", item_key));
}

/* Many keys, many removals: growth keeps every item reachable and the
 * removed slots do not make lookups fail or the table fill up. */
static void test_many(void **state) {
        enum { N = 5000 };
        static Item items[N];
        Hashmap h = {};

        for (int i = 0; i < N; i++) {
                snprintf(items[i].key, sizeof(items[i].key), "key-%d", i);
                assert_int_equal(hashmap_put(&h, &items[i], item_key), 0);
        }
        assert_int_equal(h.n_items, N);
        assert_true(h.n_items * 4 <= h.n_slots * 3);
        for (int i = 0; i < N; i++)
                assert_ptr_equal(hashmap_get(&h, items[i].key, item_key), &items[i]);

        for (int round = 0; round < 4; round++) {
                for (int i = round % 2; i < N; i += 2)
                        assert_ptr_equal(hashmap_remove(&h, items[i].key, item_key), &items[i]);
                for (int i = 0; i < N; i++)
                        assert_ptr_equal(hashmap_get(&h, items[i].key, item_key),
                                         i % 2 == round % 2 ? NULL : &items[i]);
                for (int i = round % 2; i < N; i += 2)
                        assert_int_equal(hashmap_put(&h, &items[i], item_key), 0);
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
