/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>

#include "aggregate.h"
#include "timeutil.h"

/* Licensed beats grace beats any denial. */
static int verdict_rank(const Verdict *v) {
        switch (v->reason) {
        case REASON_LICENSED: return 100;
        case REASON_GRACE: return 90;
        case REASON_NOT_INSTALLED: return 0;
        default: return 10;
        }
}

/* Whether a ends after b, where TIME_UNSET means never. */
static bool expires_later(int64_t a, int64_t b) {
        if (a == TIME_UNSET)
                return b != TIME_UNSET;
        return b != TIME_UNSET && a > b;
}

void verdict_aggregate(Verdict *best, const Verdict *v) {
        int64_t valid_until;

        assert(best);
        assert(v);

        /* The earlier of the two, where TIME_UNSET means never. */
        valid_until = expires_later(best->valid_until, v->valid_until) ? v->valid_until : best->valid_until;
        if (verdict_rank(v) > verdict_rank(best) ||
            (verdict_rank(v) == verdict_rank(best) && expires_later(v->expires, best->expires)))
                *best = *v;
        best->valid_until = valid_until;
}
