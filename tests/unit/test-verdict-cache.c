/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* CheckFeature's cache (daemon/verdicts.c) gives the answer the licenses
 * give when evaluated one by one: a product with many licenses of every
 * kind (bound and not, revoked, in force later, expiring on different
 * days, validated long ago or never, with and without maintenance), asked
 * about every feature and several release dates at instants that cross
 * its expiries, ends of grace and starts, then after an install, a
 * revocation and a removal, each followed by the drop that
 * context_reevaluate() does. */
#include "test-util.h"
#include "context.h"

#define PRODUCT "com.example.app"
#define DEVICE_KEY "ZGV2aWNlLWtleQ=="
#define N_LICENSES 300

static const Product product = {};

static const char *const features[] = {"reports", "export", "seats", "rare", "missing"};
static const int64_t release_dates[] = {
        TIME_UNSET, T0 - 10 * SEC_PER_DAY, T0 + 5 * SEC_PER_DAY, T0 + 20 * SEC_PER_DAY, T0 + 400 * SEC_PER_DAY,
};

/* License number i of a varied population. */
static Entry *add(Context *c, unsigned i, int64_t not_after) {
        _cleanup_(license_done) License l = LICENSE_INIT;
        LicenseState st = {.installed = T0 - (int64_t) (i % 20) * SEC_PER_DAY};
        char id[32];
        Entry *e = NULL;

        test_license_fill(&l, i % 5 == 0 ? NULL : DEVICE_KEY);
        snprintf(id, sizeof(id), "acme-%04u", i);
        free(l.id);
        assert_non_null(l.id = strdup(id));
        l.not_after = not_after;
        l.not_before = i % 13 == 0 ? T0 + (int64_t) (i % 9) * SEC_PER_DAY : TIME_UNSET;
        l.maintenance_until = i % 4 == 0 ? TIME_UNSET : T0 + (int64_t) (i % 40) * SEC_PER_DAY;
        if (i % 3 == 0)
                l.validation_interval = -1; /* the product's: none */
        if (i % 97 == 0)
                assert_int_equal(license_add_feature(&l, "rare", T0 + (int64_t) (i % 30) * SEC_PER_DAY, 0, NULL), 0);
        st.last_validation = i % 2 == 0 ? TIME_UNSET : st.installed + (int64_t) (i % 17) * SEC_PER_DAY;
        st.revoked = i % 11 == 0;
        assert_int_equal(context_add_entry(c, id, "text", &l, &product, &st, &e), 0);
        return e;
}

static void setup_context(Context *c) {
        snprintf(c->machine_id, sizeof(c->machine_id), "%s", TEST_MACHINE_ID);
        c->device_key_b64 = (char *) DEVICE_KEY;
        c->config.max_grace_period = 30 * SEC_PER_DAY;
        c->config.clock_tolerance = 300;
        for (unsigned i = 0; i < N_LICENSES; i++)
                add(c, i, T0 + (int64_t) (i % 50 + 1) * SEC_PER_DAY + (int64_t) (i % 7) * SEC_PER_HOUR);
}

static void done(Context *c) {
        for (size_t i = 0; i < c->n_entries; i++)
                entry_free(c->entries[i]);
        free(c->entries);
        context_index_done(c);
        verdict_cache_done(&c->verdict_cache);
}

static void assert_verdict_equal(const Verdict *a, const Verdict *b) {
        assert_int_equal(a->reason, b->reason);
        assert_int_equal(a->licensed, b->licensed);
        assert_int_equal(a->expires, b->expires);
        assert_int_equal(a->grace_end, b->grace_end);
        assert_int_equal(a->valid_until, b->valid_until);
        assert_int_equal(a->limit, b->limit);
}

/* Every feature and release date at now: the cache agrees with evaluating. */
static void check_all(Context *c, int64_t now) {
        for (size_t f = 0; f < ELEMENTSOF(features); f++)
                for (size_t r = 0; r < ELEMENTSOF(release_dates); r++) {
                        Verdict cached, evaluated;

                        verdict_cache_check(c, PRODUCT, features[f], now, release_dates[r], &cached);
                        context_check_feature_at(c, PRODUCT, features[f], now, release_dates[r], false,
                                                 &evaluated);
                        assert_verdict_equal(&cached, &evaluated);
                }
}

static void test_same_answers_across_time(void **state) {
        Context c = {};
        bool saw_licensed = false, saw_denied = false;

        setup_context(&c);
        /* Every 5 hours for 60 days: each expiry, end of grace and start is
         * crossed (each answer also asked twice, the second from the cache). */
        for (int64_t now = T0 - SEC_PER_DAY; now < T0 + 60 * SEC_PER_DAY; now += 5 * SEC_PER_HOUR) {
                Verdict v;

                check_all(&c, now);
                check_all(&c, now);
                context_check_feature_at(&c, PRODUCT, "reports", now, TIME_UNSET, false, &v);
                saw_licensed = saw_licensed || v.licensed;
                saw_denied = saw_denied || (!v.licensed && v.reason != REASON_NOT_INSTALLED);
        }
        /* The population covers both sides of the answer. */
        assert_true(saw_licensed);
        assert_true(saw_denied);
        done(&c);
}

static void test_same_answers_across_changes(void **state) {
        int64_t now = T0 + 55 * SEC_PER_DAY; /* every license of the population has expired */
        Context c = {};
        Verdict before, after;
        Entry *e;

        setup_context(&c);
        check_all(&c, now);
        verdict_cache_check(&c, PRODUCT, "reports", now, TIME_UNSET, &before);
        assert_false(before.licensed);

        /* An install: until the drop the cache still answers what it knew
         * (it is a cache), after it the new license speaks. */
        e = add(&c, 303 /* bound, no validation, not revoked */, T0 + 400 * SEC_PER_DAY);
        verdict_cache_check(&c, PRODUCT, "reports", now, TIME_UNSET, &after);
        assert_verdict_equal(&after, &before);
        verdict_cache_drop(&c.verdict_cache);
        check_all(&c, now);
        verdict_cache_check(&c, PRODUCT, "reports", now, TIME_UNSET, &after);
        assert_true(after.licensed);

        /* Its revocation, then its removal. */
        e->state.revoked = true;
        verdict_cache_drop(&c.verdict_cache);
        check_all(&c, now);
        verdict_cache_check(&c, PRODUCT, "reports", now, TIME_UNSET, &after);
        assert_int_equal(after.reason, REASON_REVOKED);
        e->state.revoked = false;
        verdict_cache_drop(&c.verdict_cache);
        check_all(&c, now);
        context_remove_entry(&c, e);
        verdict_cache_drop(&c.verdict_cache);
        check_all(&c, now);
        verdict_cache_check(&c, PRODUCT, "reports", now, TIME_UNSET, &after);
        assert_verdict_equal(&after, &before);

        /* A clock behind the mark is not answered from the cache. */
        c.time_high_water = now + 3600;
        check_all(&c, now);
        verdict_cache_check(&c, PRODUCT, "reports", now, TIME_UNSET, &after);
        assert_int_equal(after.reason, REASON_CLOCK_ROLLBACK);
        c.time_high_water = now;
        check_all(&c, now);
        done(&c);
}

/* Probes of made-up features cannot grow the cache without bound. */
static void test_bounded(void **state) {
        Context c = {};
        char feature[32];

        setup_context(&c);
        for (unsigned i = 0; i < 10000; i++) {
                Verdict cached, evaluated;

                snprintf(feature, sizeof(feature), "probe-%u", i);
                verdict_cache_check(&c, PRODUCT, feature, T0, TIME_UNSET, &cached);
                context_check_feature_at(&c, PRODUCT, feature, T0, TIME_UNSET, false, &evaluated);
                assert_verdict_equal(&cached, &evaluated);
        }
        assert_true(c.verdict_cache.map.n_items <= 4096);
        check_all(&c, T0);
        done(&c);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_same_answers_across_time),
                cmocka_unit_test(test_same_answers_across_changes),
                cmocka_unit_test(test_bounded),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
