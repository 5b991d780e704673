/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* What the installed licenses say, per entry, per feature and overall. */

#include <stdbool.h>
#include <stdint.h>

#include "entries.h"
#include "evaluate.h"

/* The local state evaluate() needs for an entry: the effective policy and
 * the clock mark. */
void entry_local_state(const Context *c, const Entry *e, LocalState *ret);
Reason entry_status(Context *c, const Entry *e, int64_t now);
/* Best verdict for product/feature over all installed licenses
 * (verdict_aggregate()). With want_seat, a counted feature whose seats are
 * all taken is limit-reached. */
void context_check_feature(Context *c, const char *product, const char *feature, int64_t release_date,
                           bool want_seat, Verdict *ret);

/* Manager-level overview for the State/Summary properties and sd_notify. */
const char *context_state(Context *c);
int context_summary(Context *c, char **ret);
int64_t context_next_validation(Context *c);
