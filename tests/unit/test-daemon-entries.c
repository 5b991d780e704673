/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The daemon's installed set (daemon/entries.c): the list and the two
 * indexes (by id, by product) agree through adds, upgrades and removals. */
#include "test-util.h"
#include "context.h"

static const Product product = {};

/* Adds a license with id for product_name; returns the entry. */
static Entry *add(Context *c, const char *id, const char *product_name, uint32_t revision) {
        _cleanup_(license_done) License l = LICENSE_INIT;
        LicenseState st = {};
        Entry *e = NULL;

        test_license_fill(&l, NULL);
        free(l.id);
        l.id = strdup(id);
        free(l.product);
        l.product = strdup(product_name);
        l.revision = revision;
        assert_int_equal(context_add_entry(c, id, "text", &l, &product, &st, &e), 0);
        assert_non_null(e);
        assert_null(l.id); /* taken over */
        return e;
}

static void done(Context *c) {
        for (size_t i = 0; i < c->n_entries; i++)
                entry_free(c->entries[i]);
        free(c->entries);
        context_index_done(c);
}

static bool in_product(Context *c, const char *product_name, const Entry *e) {
        const ProductEntries *pe = context_product_entries(c, product_name);
        for (size_t i = 0; i < pe->n; i++)
                if (pe->items[i] == e)
                        return true;
        return false;
}

static void test_add_find_remove(void **state) {
        Context c = {};
        _cleanup_free_ char *path = NULL;
        Entry *a, *b, *x;

        a = add(&c, "acme-0001", "com.example.app", 1);
        b = add(&c, "acme-0002", "com.example.app", 1);
        x = add(&c, "other-0001", "com.example.tool", 1);
        assert_int_equal(c.n_entries, 3);
        assert_ptr_equal(context_find_entry(&c, "acme-0001"), a);
        assert_ptr_equal(context_find_entry(&c, "acme-0002"), b);
        assert_null(context_find_entry(&c, "acme-0003"));
        path = entry_object_path(a);
        assert_string_equal(path, "/org/licensed/License1/license/acme_2d0001");
        assert_int_equal(a->status, REASON_LICENSED); /* nothing else announced before */
        assert_int_equal(entry_feature_reason(a, 0), _REASON_INVALID);
        assert_int_equal(context_product_entries(&c, "com.example.app")->n, 2);
        assert_int_equal(context_product_entries(&c, "com.example.tool")->n, 1);
        assert_int_equal(context_product_entries(&c, "com.example.none")->n, 0);

        context_remove_entry(&c, a);
        assert_int_equal(c.n_entries, 2);
        assert_null(context_find_entry(&c, "acme-0001"));
        assert_int_equal(context_product_entries(&c, "com.example.app")->n, 1);
        assert_true(in_product(&c, "com.example.app", b));

        /* The last of a product takes its index entry with it. */
        context_remove_entry(&c, x);
        assert_int_equal(context_product_entries(&c, "com.example.tool")->n, 0);
        assert_ptr_equal(c.entries[0], b);
        done(&c);
}

/* Up to ENTRY_INLINE_FEATURES features keep their last reasons in the
 * entry, more in an allocation of their own: both hold every feature's. */
static void test_feature_reasons(void **state) {
        Context c = {};

        for (size_t n = ENTRY_INLINE_FEATURES - 1; n <= ENTRY_INLINE_FEATURES + 2; n++) {
                _cleanup_(license_done) License l = LICENSE_INIT;
                LicenseState st = {};
                char id[32];
                Entry *e = NULL;

                test_license_fill(&l, NULL);
                snprintf(id, sizeof(id), "many-%zu", n);
                free(l.id);
                l.id = strdup(id);
                while (l.n_features < n) {
                        char name[16];
                        snprintf(name, sizeof(name), "extra%zu", l.n_features);
                        assert_int_equal(license_add_feature(&l, name, TIME_UNSET, 0, NULL), 0);
                }
                assert_int_equal(context_add_entry(&c, id, "text", &l, &product, &st, &e), 0);
                for (size_t k = 0; k < n; k++)
                        assert_int_equal(entry_feature_reason(e, k), _REASON_INVALID);
                for (size_t k = 0; k < n; k++)
                        entry_set_feature_reason(e, k, k % 2 ? REASON_GRACE : REASON_LICENSED);
                for (size_t k = 0; k < n; k++)
                        assert_int_equal(entry_feature_reason(e, k), k % 2 ? REASON_GRACE : REASON_LICENSED);
                entry_set_feature_reason(e, n - 1, _REASON_INVALID);
                assert_int_equal(entry_feature_reason(e, n - 1), _REASON_INVALID);
        }
        assert_int_equal(c.n_entries, 4);
        done(&c);
}

static void test_replace(void **state) {
        Context c = {};
        Entry *other, *upgraded;

        (void) add(&c, "acme-0001", "com.example.app", 1);
        other = add(&c, "acme-0002", "com.example.app", 1);
        upgraded = add(&c, "acme-0001", "com.example.app", 2);
        /* In place: same count, same position, the old entry gone from both indexes. */
        assert_int_equal(c.n_entries, 2);
        assert_ptr_equal(c.entries[0], upgraded);
        assert_ptr_equal(context_find_entry(&c, "acme-0001"), upgraded);
        assert_int_equal(upgraded->license.revision, 2);
        assert_int_equal(context_product_entries(&c, "com.example.app")->n, 2);
        assert_true(in_product(&c, "com.example.app", upgraded));
        assert_true(in_product(&c, "com.example.app", other));
        done(&c);
}

static void test_announced_state(void **state) {
        _cleanup_(license_done) License l = LICENSE_INIT;
        LicenseState st = {.warned_days_left = 3};
        Context c = {};
        Entry *e;

        /* What was last announced carries over (a restart repeats nothing). */
        snprintf(st.announced, sizeof(st.announced), "grace");
        test_license_fill(&l, NULL);
        assert_int_equal(context_add_entry(&c, "acme-0001", "text", &l, &product, &st, &e), 0);
        assert_int_equal(e->status, REASON_GRACE);
        assert_int_equal(e->warned_days_left, 3);
        done(&c);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_add_find_remove),
                cmocka_unit_test(test_feature_reasons),
                cmocka_unit_test(test_replace),
                cmocka_unit_test(test_announced_state),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
