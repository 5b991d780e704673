/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What the installed licenses say: the local state evaluate() needs for
 * one entry, the verdict for a feature over all of a product's licenses
 * (CheckFeature), and the overview of the whole set (the Manager's State,
 * Summary and NextValidation, systemd's STATUS=). */

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aggregate.h"
#include "context.h"
#include "seats.h"

void entry_local_state(const Context *c, const Entry *e, LocalState *ret) {
        const char *server = e->license.server_url ?: e->product->server_url;
        /* The license's own policy rules; the product default applies only
         * where there is a server to validate against, or a license from an
         * offline-only vendor would run out for want of a server. */
        int64_t interval = e->license.validation_interval >= 0 ? e->license.validation_interval
                           : server                            ? e->product->validation_interval
                                                               : 0;
        int64_t grace = e->license.grace_period >= 0 ? e->license.grace_period : e->product->grace_period;

        if (grace > c->config.max_grace_period)
                grace = c->config.max_grace_period;
        *ret = (LocalState) {
                .machine_id = c->machine_id,
                .device_key = c->device_key_b64,
                .revoked = e->state.revoked,
                .installed = e->state.installed,
                .last_validation = e->state.last_validation,
                .time_high_water = c->time_high_water,
                .clock_tolerance = c->config.clock_tolerance,
                .validation_interval = interval,
                .grace_period = grace,
        };
}

Reason entry_status(Context *c, const Entry *e, int64_t now) {
        LocalState st;
        Verdict v;

        entry_local_state(c, e, &st);
        evaluate(&e->license, &st, NULL, now, TIME_UNSET, &v);
        return v.reason;
}

void context_check_feature_at(Context *c, const char *product, const char *feature, int64_t now,
                              int64_t release_date, bool want_seat, Verdict *ret) {
        const ProductEntries *pe = context_product_entries(c, product);
        Verdict best = VERDICT_NOT_INSTALLED;

        for (size_t i = 0; i < pe->n; i++) {
                Entry *e = pe->items[i];
                LocalState st;
                Verdict v;

                entry_local_state(c, e, &st);
                st.want_seat = want_seat;
                st.seats_in_use = want_seat ? seats_in_use(c, product, feature) : 0;
                evaluate(&e->license, &st, feature, now, release_date, &v);
                verdict_aggregate(&best, &v);
        }
        *ret = best;
}

void context_check_feature(Context *c, const char *product, const char *feature, int64_t release_date,
                           bool want_seat, Verdict *ret) {
        context_check_feature_at(c, product, feature, context_now(c), release_date, want_seat, ret);
}

/* CheckFeature's cache ---------------------------------------------------------
 *
 * CheckFeature evaluates every license of the asked product; a product with
 * a thousand licenses made each call a thousand evaluations. The answer is
 * a function of the product's licenses, their local state, the policy, the
 * clock mark, the instant and the release date. The first four change only
 * through code that calls verdict_cache_drop() (context_reevaluate() and
 * context_state_changed() do; seats do not enter an answer without
 * want_seat, which CheckFeature never asks). The clock mark enters only
 * through the clock-rollback rule, which is checked at every lookup. The
 * instant: an answer computed at T holds for every now in [T, valid_until).
 * The release date: the answer for "none" is the answer for every release
 * date up to the earliest maintenance-until among the licenses that got as
 * far as the maintenance rule; later release dates are evaluated. */

typedef struct CachedVerdict {
        uint64_t generation;   /* VerdictCache.generation when computed */
        int64_t computed;      /* the instant it was computed for */
        int64_t valid_until;   /* it may change at this instant; TIME_UNSET: only on a drop */
        int64_t release_limit; /* release dates after this are evaluated; TIME_UNSET: no limit */
        Verdict verdict;
        char key[]; /* "product feature": neither name may hold a space */
} CachedVerdict;

/* Callers may ask for any feature of any product: the cache is bounded and
 * starts over when full. */
#define VERDICT_CACHE_MAX 4096
#define VERDICT_CACHE_KEY_MAX (128 + 1 + 64 + 1)

/* The earlier of two instants, where TIME_UNSET means never. */
static int64_t earlier(int64_t a, int64_t b) {
        if (a == TIME_UNSET)
                return b;
        return b == TIME_UNSET || a < b ? a : b;
}

static const char *cached_verdict_key(const void *item) {
        return ((const CachedVerdict *) item)->key;
}

static void cache_clear(VerdictCache *cache) {
        for (size_t i = 0; i < cache->map.n_slots; i++)
                free(hashmap_slot_item(&cache->map, i));
        hashmap_done(&cache->map);
}

void verdict_cache_drop(VerdictCache *cache) {
        assert(cache);
        cache->generation++;
}

void verdict_cache_done(VerdictCache *cache) {
        assert(cache);
        cache_clear(cache);
        cache->generation = 0;
}

/* The answer for no release date at now, until when it holds, and up to
 * which release date. */
static void cache_compute(Context *c, const ProductEntries *pe, const char *feature, int64_t now,
                          CachedVerdict *cv) {
        Verdict best = VERDICT_NOT_INSTALLED;
        int64_t until = TIME_UNSET, limit = TIME_UNSET;

        for (size_t i = 0; i < pe->n; i++) {
                const License *l = &pe->items[i]->license;
                LocalState st;
                Verdict v;

                entry_local_state(c, pe->items[i], &st);
                evaluate(l, &st, feature, now, TIME_UNSET, &v);
                verdict_aggregate(&best, &v);
                /* A license that lacks the feature answers not-installed
                 * with no valid_until, yet turns expired at its end, which
                 * can change the winner among denials: every start and end
                 * of a license ahead bounds the answer. */
                if (l->not_before > now)
                        until = earlier(until, l->not_before);
                if (l->not_after > now)
                        until = earlier(until, l->not_after);
                /* Only a verdict that got as far as the maintenance rule
                 * (the rules after it: validation) hears the release date. */
                if (v.reason == REASON_LICENSED || v.reason == REASON_GRACE ||
                    v.reason == REASON_VALIDATION_REQUIRED)
                        limit = earlier(limit, l->maintenance_until);
        }
        cv->generation = c->verdict_cache.generation;
        cv->computed = now;
        cv->valid_until = earlier(until, best.valid_until);
        cv->release_limit = limit;
        cv->verdict = best;
}

static bool cache_holds(const VerdictCache *cache, const CachedVerdict *cv, int64_t now) {
        return cv->generation == cache->generation && now >= cv->computed &&
               (cv->valid_until == TIME_UNSET || now < cv->valid_until);
}

/* The entry for key, computed now if it is missing or stale; NULL when out
 * of memory (the caller evaluates). */
static CachedVerdict *cache_get(Context *c, const ProductEntries *pe, const char *key, const char *feature,
                                int64_t now) {
        VerdictCache *cache = &c->verdict_cache;
        CachedVerdict *cv = hashmap_get(&cache->map, key, cached_verdict_key);

        if (cv) {
                if (!cache_holds(cache, cv, now))
                        cache_compute(c, pe, feature, now, cv);
                return cv;
        }
        if (cache->map.n_items >= VERDICT_CACHE_MAX)
                cache_clear(cache);
        cv = malloc(sizeof(CachedVerdict) + strlen(key) + 1);
        if (!cv)
                return NULL;
        strcpy(cv->key, key);
        if (hashmap_put(&cache->map, cv, cached_verdict_key) < 0) {
                free(cv);
                return NULL;
        }
        cache_compute(c, pe, feature, now, cv);
        return cv;
}

void verdict_cache_check(Context *c, const char *product, const char *feature, int64_t now, int64_t release_date,
                         Verdict *ret) {
        const ProductEntries *pe;
        char key[VERDICT_CACHE_KEY_MAX];
        CachedVerdict *cv;

        assert(c);
        assert(product);
        assert(feature);
        assert(ret);

        pe = context_product_entries(c, product);
        /* A product without licenses costs nothing to answer, and probes of
         * made-up names must not fill the cache. A clock behind the mark
         * is evaluate()'s first rule and the one place the mark enters. */
        if (pe->n == 0 ||
            (c->time_high_water != TIME_UNSET && now < c->time_high_water - c->config.clock_tolerance))
                goto evaluate;
        if (snprintf(key, sizeof(key), "%s %s", product, feature) >= (int) sizeof(key))
                goto evaluate;
        cv = cache_get(c, pe, key, feature, now);
        if (!cv || (release_date != TIME_UNSET && cv->release_limit != TIME_UNSET && release_date > cv->release_limit))
                goto evaluate;
        *ret = cv->verdict;
        return;
evaluate:
        context_check_feature_at(c, product, feature, now, release_date, false, ret);
}

const char *context_state(Context *c) {
        int64_t now = context_now(c);
        bool grace = false, trouble = false;

        if (c->n_entries == 0)
                return "empty";
        for (size_t i = 0; i < c->n_entries; i++) {
                Reason r = entry_status(c, c->entries[i], now);
                if (r == REASON_GRACE)
                        grace = true;
                else if (r != REASON_LICENSED)
                        trouble = true;
        }
        return trouble ? "trouble" : grace ? "grace" : "ok";
}

int context_summary(Context *c, char **ret) {
        int64_t now = context_now(c), next = context_next_validation(c), min_grace = TIME_UNSET;
        unsigned active = 0, grace = 0, other = 0;
        char nextbuf[80] = "", gracebuf[64] = "", ts[RFC3339_MAX];

        for (size_t i = 0; i < c->n_entries; i++) {
                Entry *e = c->entries[i];
                Reason r = entry_status(c, e, now);
                if (r == REASON_LICENSED)
                        active++;
                else if (r == REASON_GRACE) {
                        LocalState st;
                        Verdict v;
                        grace++;
                        entry_local_state(c, e, &st);
                        evaluate(&e->license, &st, NULL, now, TIME_UNSET, &v);
                        if (min_grace == TIME_UNSET || v.grace_end < min_grace)
                                min_grace = v.grace_end;
                } else
                        other++;
        }
        if (grace > 0) {
                int64_t d = days_left(now, min_grace);
                snprintf(gracebuf, sizeof(gracebuf), " (%lld day%s left)", (long long) d, d == 1 ? "" : "s");
        }
        if (next != TIME_UNSET)
                snprintf(nextbuf, sizeof(nextbuf), "; next validation %s", time_format_rfc3339(next, ts));
        if (asprintf(ret, "%zu license%s: %u active, %u in grace%s, %u not licensed%s", c->n_entries,
                     c->n_entries == 1 ? "" : "s", active, grace, gracebuf, other, nextbuf) < 0)
                return -ENOMEM;
        return 0;
}

int64_t context_next_validation(Context *c) {
        int64_t next = TIME_UNSET;

        for (size_t i = 0; i < c->n_entries; i++) {
                Entry *e = c->entries[i];
                LocalState st;
                int64_t due;

                entry_local_state(c, e, &st);
                if (st.validation_interval <= 0 || e->state.revoked)
                        continue;
                due = (e->state.last_validation ?: e->state.installed) + st.validation_interval;
                if (next == TIME_UNSET || due < next)
                        next = due;
        }
        return next;
}
