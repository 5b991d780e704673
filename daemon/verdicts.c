/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What the installed licenses say: the local state evaluate() needs for
 * one entry, the verdict for a feature over all of a product's licenses
 * (CheckFeature), and the overview of the whole set (the Manager's State,
 * Summary and NextValidation, systemd's STATUS=). */

#include <stdio.h>

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

void context_check_feature(Context *c, const char *product, const char *feature, int64_t release_date,
                           bool want_seat, Verdict *ret) {
        int64_t now = context_now(c);
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
