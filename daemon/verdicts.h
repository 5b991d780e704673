/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* What the installed licenses say, per entry, per feature and overall. */

#include <stdbool.h>
#include <stdint.h>

#include "entries.h"
#include "evaluate.h"
#include "hashmap.h"

/* The local state evaluate() needs for an entry: the effective policy and
 * the clock mark. */
void entry_local_state(const Context *c, const Entry *e, LocalState *ret);
Reason entry_status(Context *c, const Entry *e, int64_t now);
/* Best verdict for product/feature over all installed licenses
 * (verdict_aggregate()). With want_seat, a counted feature whose seats are
 * all taken is limit-reached. */
void context_check_feature(Context *c, const char *product, const char *feature, int64_t release_date,
                           bool want_seat, Verdict *ret);
/* The same at a given instant, without reading the clock. */
void context_check_feature_at(Context *c, const char *product, const char *feature, int64_t now,
                              int64_t release_date, bool want_seat, Verdict *ret);

/* CheckFeature's cache: per (product, feature) the verdict for "no release
 * date", until when it holds and up to which release date it holds too, so
 * that a product's licenses are evaluated once per change, not once per
 * call. Entries are checked at every lookup (the instant, the clock mark)
 * and all dropped at once by verdict_cache_drop(). */
typedef struct VerdictCache {
        Hashmap map;         /* "product feature" -> CachedVerdict */
        uint64_t generation; /* entries of another generation are stale */
} VerdictCache;

/* Answers as context_check_feature_at(..., want_seat=false) does, from the
 * cache when it holds an exact answer. */
void verdict_cache_check(Context *c, const char *product, const char *feature, int64_t now, int64_t release_date,
                         Verdict *ret);
/* Every change to what a verdict depends on (the installed set, a
 * license's state, the policy) must call this before the next lookup;
 * context_reevaluate() and context_state_changed() do. O(1). */
void verdict_cache_drop(VerdictCache *cache);
void verdict_cache_done(VerdictCache *cache);

/* Manager-level overview for the State/Summary properties and sd_notify. */
const char *context_state(Context *c);
int context_summary(Context *c, char **ret);
int64_t context_next_validation(Context *c);
