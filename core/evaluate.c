/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>

#include "evaluate.h"
#include "string-table.h"
#include "timeutil.h"

static const char *const reason_table[_REASON_MAX] = {
        [REASON_LICENSED] = "licensed",
        [REASON_GRACE] = "grace",
        [REASON_NOT_INSTALLED] = "not-installed",
        [REASON_NOT_ACTIVATED] = "not-activated",
        [REASON_EXPIRED] = "expired",
        [REASON_FEATURE_EXPIRED] = "feature-expired",
        [REASON_MAINTENANCE_EXPIRED] = "maintenance-expired",
        [REASON_VALIDATION_REQUIRED] = "validation-required",
        [REASON_REVOKED] = "revoked",
        [REASON_CLOCK_ROLLBACK] = "clock-rollback",
        [REASON_WRONG_MACHINE] = "wrong-machine",
        [REASON_LIMIT_REACHED] = "limit-reached",
        [REASON_NO_LEASE] = "no-lease",
        [REASON_SITE_UNREACHABLE] = "site-unreachable",
        [REASON_FLOATING_IN_USE] = "floating-in-use",
};

static const char *const reason_description_table[_REASON_MAX] = {
        [REASON_LICENSED] = "the feature is licensed",
        [REASON_GRACE] = "licensed in the grace period: the license could not be validated recently",
        [REASON_NOT_INSTALLED] = "no installed license grants this feature",
        [REASON_NOT_ACTIVATED] = "the license is not activated on this machine or not in force yet",
        [REASON_EXPIRED] = "the license has expired",
        [REASON_FEATURE_EXPIRED] = "this feature's own term has ended",
        [REASON_MAINTENANCE_EXPIRED] = "this version was released after maintenance ended",
        [REASON_VALIDATION_REQUIRED] = "the grace period is over: the license must be validated",
        [REASON_REVOKED] = "the vendor revoked the license",
        [REASON_CLOCK_ROLLBACK] = "the system clock is behind a time already seen: fix the clock",
        [REASON_WRONG_MACHINE] = "the license is bound to another machine",
        [REASON_LIMIT_REACHED] = "all seats of this feature are in use",
        [REASON_NO_LEASE] = "a floating feature: no lease from the site server is held on this machine",
        [REASON_SITE_UNREACHABLE] = "a floating feature: the site server cannot be reached",
        [REASON_FLOATING_IN_USE] = "a floating feature: all floating seats are in use",
};

DEFINE_STRING_TABLE_LOOKUP(reason, Reason);

const char *reason_to_description(Reason r) {
        if (r < 0 || r >= _REASON_MAX)
                return NULL;
        return reason_description_table[r];
}

/* Earliest of two instants where TIME_UNSET means "never". */
static int64_t earliest(int64_t a, int64_t b) {
        if (a == TIME_UNSET)
                return b;
        if (b == TIME_UNSET)
                return a;
        return a < b ? a : b;
}

static void deny(Verdict *v, Reason r, int64_t valid_until) {
        v->reason = r;
        v->licensed = false;
        v->valid_until = valid_until;
}

void evaluate(const License *l, const LocalState *st, const char *feature, int64_t now, int64_t release_date,
              Verdict *ret) {
        const LicenseFeature *f;
        Verdict v = {.reason = REASON_NOT_INSTALLED};

        assert(st);
        assert(ret);

        if (!l) {
                *ret = v;
                return;
        }
        /* Known whatever the verdict, so a denial still shows the end date. */
        v.expires = l->not_after;

        /* A clock behind what we already trusted is not a free extension:
         * checked first, since every rule below reads the clock. */
        if (st->time_high_water != TIME_UNSET && now < st->time_high_water - st->clock_tolerance) {
                deny(&v, REASON_CLOCK_ROLLBACK, st->time_high_water - st->clock_tolerance);
                goto done;
        }
        if (!l->machine_id) {
                deny(&v, REASON_NOT_ACTIVATED, TIME_UNSET);
                goto done;
        }
        if (!streq_ptr(l->machine_id, st->machine_id) || !streq_ptr(l->device_key, st->device_key)) {
                deny(&v, REASON_WRONG_MACHINE, TIME_UNSET);
                goto done;
        }
        if (st->revoked) {
                deny(&v, REASON_REVOKED, TIME_UNSET);
                goto done;
        }
        if (l->not_before != TIME_UNSET && now < l->not_before) {
                deny(&v, REASON_NOT_ACTIVATED, l->not_before);
                goto done;
        }

        v.expires = l->not_after;
        if (l->not_after != TIME_UNSET && now >= l->not_after) {
                deny(&v, REASON_EXPIRED, TIME_UNSET);
                goto done;
        }

        f = feature ? license_find_feature(l, feature) : NULL;
        if (feature && !f) {
                deny(&v, REASON_NOT_INSTALLED, TIME_UNSET);
                goto done;
        }
        v.limit = f ? f->limit : 0;
        v.expires = earliest(l->not_after, f ? f->expires : TIME_UNSET);
        if (f && f->expires != TIME_UNSET && now >= f->expires) {
                deny(&v, REASON_FEATURE_EXPIRED, TIME_UNSET);
                goto done;
        }

        /* Covered are versions released on or before maintenance-until. */
        if (release_date != TIME_UNSET && l->maintenance_until != TIME_UNSET &&
            release_date > l->maintenance_until) {
                deny(&v, REASON_MAINTENANCE_EXPIRED, TIME_UNSET);
                goto done;
        }

        v.reason = REASON_LICENSED;
        v.licensed = true;
        v.valid_until = v.expires;

        if (st->validation_interval > 0) {
                /* Validated at T: licensed until T + interval, in grace until
                 * T + grace period (never shorter than the interval), then
                 * validation is required. Never validated: T is installation. */
                int64_t base = st->last_validation != TIME_UNSET ? st->last_validation : st->installed;
                int64_t due = base + st->validation_interval;
                int64_t grace = st->grace_period > st->validation_interval ? st->grace_period
                                                                           : st->validation_interval;

                v.grace_end = base + grace;
                if (now >= v.grace_end) {
                        deny(&v, REASON_VALIDATION_REQUIRED, TIME_UNSET);
                        goto done;
                }
                if (now >= due) {
                        v.reason = REASON_GRACE;
                        v.valid_until = earliest(v.valid_until, v.grace_end);
                } else
                        v.valid_until = earliest(v.valid_until, due);
        }

        if (st->want_seat && f && f->limit > 0 && st->seats_in_use >= f->limit) {
                deny(&v, REASON_LIMIT_REACHED, TIME_UNSET);
                goto done;
        }

done:
        *ret = v;
}
