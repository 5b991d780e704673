/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Telling the world when a verdict changes: re-evaluation with its timer,
 * FeatureChanged and PropertiesChanged (through the bus layer), and the
 * journal events for status changes and denials. */

#include <assert.h>
#include <stdio.h>

#include "context.h"
#include "event-timer.h"
#include "events.h"
#include "log.h"
#include "snapshot.h"

/* Re-evaluate at least this often, whatever the next known deadline. */
#define REEVALUATE_MAX_DELAY SNAPSHOT_REFRESH_INTERVAL

void context_note_denial(Context *c, const char *product, const char *feature, Reason reason) {
        int64_t now = context_now(c);
        Denial *d;

        for (size_t i = 0; i < DENIALS_MAX; i++) {
                d = &c->denials[i];
                if (d->logged && d->reason == reason && streq(d->product, product) && streq(d->feature, feature)) {
                        if (now - d->logged < DENIAL_LOG_INTERVAL && now >= d->logged)
                                return;
                        goto log;
                }
        }
        d = &c->denials[c->next_denial];
        c->next_denial = (c->next_denial + 1) % DENIALS_MAX;
        snprintf(d->product, sizeof(d->product), "%s", product);
        snprintf(d->feature, sizeof(d->feature), "%s", feature);
        d->reason = reason;
log:
        d->logged = now;
        event_emit(EVENT_FEATURE_DENIED, LOG_NOTICE,
                   &(EventFields) {.product = product, .feature = feature, .reason = reason_to_string(reason),
                                   .days_left = -1},
                   "Feature %s of %s was denied: %s.", feature, product, reason_to_description(reason));
}

/* Records what was announced, so a restart neither repeats nor misses it. */
static void remember_announced(Context *c, Entry *e) {
        LicenseState st = e->state;
        int r;

        snprintf(st.announced, sizeof(st.announced), "%s",
                 e->status == REASON_LICENSED ? "" : reason_to_string(e->status) ?: "");
        st.warned_days_left = e->warned_days_left > 0 ? e->warned_days_left : 0;
        if (streq(st.announced, e->state.announced) && st.warned_days_left == e->state.warned_days_left)
                return;
        r = store_save_state(&c->store, e->id, &st);
        if (r < 0)
                log_warning_errno(r, "Failed to record the announced status of %s: %m", e->id);
        else
                e->state = st;
}

/* The events for a license that stops being licensed (grace has its own,
 * with the days left). */
static const struct {
        Reason reason;
        const char *message_id;
        const char *message; /* takes the license id, then the product */
} status_events[] = {
        {REASON_VALIDATION_REQUIRED, EVENT_GRACE_EXPIRED,
         "License %s of %s: the grace period is over and its features are no longer licensed until it is "
         "validated."},
        {REASON_EXPIRED, EVENT_EXPIRED, "License %s of %s has expired."},
        {REASON_REVOKED, EVENT_REVOKED, "License %s of %s was revoked by the vendor."},
        {REASON_CLOCK_ROLLBACK, EVENT_CLOCK_ROLLBACK,
         "The system clock is behind a time licensed already saw; license %s of %s is not honoured until the "
         "clock is fixed."},
};

/* Journal events for a license whose status changed from old to v->reason. */
static void announce_status(Context *c, Entry *e, Reason old, const Verdict *v, int64_t now) {
        EventFields f = {.license_id = e->id, .product = e->license.product,
                         .reason = reason_to_string(v->reason), .days_left = -1};

        /* Nothing announced before (a new license, or state from before this
         * was recorded): its status now is where the journal starts. */
        if (old == _REASON_INVALID) {
                e->warned_days_left = -1;
                return;
        }

        switch (v->reason) {
        case REASON_GRACE:
                f.days_left = days_left(now, v->grace_end);
                if (old != REASON_GRACE) {
                        event_emit(EVENT_GRACE_ENTERED, LOG_WARNING, &f,
                                   "License %s of %s could not be validated and is in its grace period: "
                                   "%lld days left.",
                                   e->id, e->license.product, (long long) f.days_left);
                        e->warned_days_left = f.days_left;
                } else if (c->config.grace_warning > 0 && f.days_left * SEC_PER_DAY <= c->config.grace_warning &&
                           f.days_left != e->warned_days_left) {
                        /* grace_warning (licensed.conf) before the end, one a day */
                        event_emit(EVENT_GRACE_WARNING, LOG_WARNING, &f,
                                   "License %s of %s: the grace period ends in %lld days; validate it.", e->id,
                                   e->license.product, (long long) f.days_left);
                        e->warned_days_left = f.days_left;
                }
                return;
        case REASON_LICENSED:
                if (e->license.type != LICENSE_TRIAL || e->license.not_after == TIME_UNSET)
                        break;
                /* A trial warns before its end as grace does: within
                 * grace_warning, once a day. */
                f.days_left = days_left(now, e->license.not_after);
                if (c->config.grace_warning > 0 && f.days_left * SEC_PER_DAY <= c->config.grace_warning &&
                    f.days_left != e->warned_days_left) {
                        event_emit(EVENT_TRIAL_WARNING, LOG_WARNING, &f,
                                   "License %s of %s: the trial ends in %lld day%s; buy a license key to go on.",
                                   e->id, e->license.product, (long long) f.days_left, f.days_left == 1 ? "" : "s");
                        e->warned_days_left = f.days_left;
                }
                return;
        default:
                for (size_t i = 0; i < ELEMENTSOF(status_events); i++)
                        if (status_events[i].reason == v->reason && old != v->reason)
                                /* Each message names the license, then its product. */
                                event_emit(status_events[i].message_id, LOG_ERR, &f, status_events[i].message,
                                           e->id, e->license.product);
                break;
        }
        e->warned_days_left = -1;
}

static int on_reevaluate_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        context_reevaluate(userdata);
        return 0;
}

void context_defer_begin(Context *c) {
        assert(c);
        c->defer_depth++;
}

void context_defer_end(Context *c) {
        assert(c);
        assert(c->defer_depth > 0);
        c->defer_depth--;
}

void context_flush_deferred(Context *c) {
        assert(c);

        if (c->defer_depth > 0)
                return; /* the outermost scope's owner flushes */
        /* A re-evaluation that finds a change announces the state itself
         * (and pays that debt); otherwise the state is announced once. */
        if (c->owe_reevaluate)
                context_reevaluate(c);
        if (c->owe_state_changed)
                context_state_changed(c);
}

void context_reevaluate(Context *c) {
        int64_t now, next = TIME_UNSET;
        bool any_changed = false;
        int r;

        /* Whatever made us re-evaluate may have changed an answer: the
         * CheckFeature cache goes at once, even while the rest is deferred
         * (a receipt stored mid-Validate is answered from at once). */
        verdict_cache_drop(&c->verdict_cache);
        if (c->defer_depth > 0) {
                c->owe_reevaluate = true;
                return;
        }
        c->owe_reevaluate = false;
        now = context_now(c);

        for (size_t i = 0; i < c->n_entries; i++) {
                Entry *e = c->entries[i];
                LocalState st;
                Verdict v;
                bool changed = false;

                entry_local_state(c, e, &st);
                for (size_t k = 0; k < e->license.n_features; k++) {
                        const char *name = e->license.features[k].name;

                        evaluate(&e->license, &st, name, now, TIME_UNSET, &v);
                        if (v.valid_until != TIME_UNSET && v.valid_until > now &&
                            (next == TIME_UNSET || v.valid_until < next))
                                next = v.valid_until;
                        if (v.reason == entry_feature_reason(e, k))
                                continue;
                        entry_set_feature_reason(e, k, v.reason);
                        changed = true;
                        if (!c->announce)
                                continue;
                        manager_dbus_emit_feature_changed(c, e->license.product, name, &v);
                }
                evaluate(&e->license, &st, NULL, now, TIME_UNSET, &v);
                int64_t warned = e->warned_days_left;
                announce_status(c, e, e->status, &v, now);
                if ((v.reason == REASON_GRACE || (v.reason == REASON_LICENSED && e->license.type == LICENSE_TRIAL)) &&
                    (next == TIME_UNSET || now + SEC_PER_DAY < next))
                        next = now + SEC_PER_DAY; /* daily, for the warnings */
                if (v.reason != e->status || e->warned_days_left != warned) {
                        changed = changed || v.reason != e->status;
                        e->status = v.reason;
                        remember_announced(c, e);
                }
                if (changed && c->announce) {
                        any_changed = true;
                        (void) license_dbus_emit_changed(c, e);
                }
        }
        if (any_changed)
                context_state_changed(c);

        /* The fast path for clients: verdicts and until when they hold. At
         * start, written once the bus name is owned (context.c). */
        if (!c->snapshot_after_name)
                (void) snapshot_write(c);

        /* Wake up when the next verdict may change (expiry, end of grace),
         * and at least every SNAPSHOT_REFRESH_INTERVAL, so the snapshot never
         * grows old enough for clients to refuse it; the delay runs on
         * CLOCK_MONOTONIC, so a wall clock that jumps is noticed too. */
        int64_t delay = next == TIME_UNSET ? REEVALUATE_MAX_DELAY : next - now;

        if (delay > REEVALUATE_MAX_DELAY)
                delay = REEVALUATE_MAX_DELAY;
        if (delay < 1)
                delay = 1;
        r = event_timer_arm(c->event, &c->reevaluate_source, (uint64_t) delay * USEC_PER_SEC,
                            USEC_PER_SEC /* 1 s accuracy */, on_reevaluate_timer, c);
        if (r < 0)
                log_warning_errno(r, "Failed to arm the re-evaluation timer: %m");
}

void context_state_changed(Context *c) {
        verdict_cache_drop(&c->verdict_cache);
        if (c->defer_depth > 0) {
                c->owe_state_changed = true;
                return;
        }
        c->owe_state_changed = false;
        context_save_clock(c); /* a state change is a time worth remembering */
        context_notify_status(c);
        manager_dbus_emit_state_changed(c);
}
