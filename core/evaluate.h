/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The one place that decides whether a feature is licensed. Pure: it reads
 * its arguments and nothing else (no clock, no files), so every rule can be
 * tested at its boundaries and the daemon, the fast-path snapshot and the
 * tests all agree. Rules and their order: docs/evaluation.md. */

#include <stdbool.h>
#include <stdint.h>

#include "license.h"

typedef enum Reason {
        REASON_LICENSED,
        REASON_GRACE,
        REASON_NOT_INSTALLED,
        REASON_NOT_ACTIVATED,
        REASON_EXPIRED,
        REASON_FEATURE_EXPIRED,
        REASON_MAINTENANCE_EXPIRED,
        REASON_VALIDATION_REQUIRED,
        REASON_REVOKED,
        REASON_CLOCK_ROLLBACK,
        REASON_WRONG_MACHINE,
        REASON_LIMIT_REACHED,
        /* Floating features (docs/floating.md): never from evaluate(), which
         * sees local licenses only; the daemon's leases answer them. */
        REASON_NO_LEASE,
        REASON_SITE_UNREACHABLE,
        REASON_FLOATING_IN_USE,
        _REASON_MAX,
        _REASON_INVALID = -1,
} Reason;

/* What the machine knows beyond the signed license. */
typedef struct LocalState {
        const char *machine_id; /* this machine's per-application id, 32 hex */
        const char *device_key; /* this machine's device public key, base64 */
        bool revoked;           /* the server said so at the last validation */
        int64_t installed;      /* when the license was installed */
        int64_t last_validation; /* last successful validation, TIME_UNSET if never */
        int64_t time_high_water; /* latest wall-clock time trusted, TIME_UNSET if none */
        int64_t clock_tolerance; /* how far behind the high-water mark is still fine */
        int64_t validation_interval; /* effective policy: 0 = no validation needed */
        int64_t grace_period;        /* effective policy, already capped by config */
        uint32_t seats_in_use;  /* for counted features */
        bool want_seat;         /* checking out a seat, not just asking */
} LocalState;

typedef struct Verdict {
        Reason reason;
        bool licensed;       /* REASON_LICENSED or REASON_GRACE */
        int64_t expires;     /* when the license/feature ends regardless of validation; TIME_UNSET: never */
        int64_t grace_end;   /* end of the grace period if validation applies; TIME_UNSET otherwise */
        int64_t valid_until; /* this verdict may change at this instant; TIME_UNSET: only on a state change */
        uint32_t limit;      /* seat limit of the feature, 0 if not counted */
} Verdict;

/* l may be NULL (no license for the product). feature may be NULL for the
 * status of the license as a whole (no feature rules). release_date is TIME_UNSET
 * when the caller gives none (maintenance is then not checked). */
void evaluate(const License *l, const LocalState *st, const char *feature, int64_t now, int64_t release_date,
              Verdict *ret);

const char *reason_to_string(Reason r);
Reason reason_from_string(const char *s);
/* One sentence for humans, e.g. "the license expired". */
const char *reason_to_description(Reason r);
