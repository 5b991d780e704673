/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The clock high-water mark: the latest wall-clock time licensed trusts,
 * kept on disk (store.h) so that turning the clock back, even across a
 * reboot, shows as clock-rollback instead of extending a license. */

#include <stdbool.h>
#include <stdint.h>

#include "timeutil.h"

typedef struct Context Context;

/* Persist the mark at most this often from the check path; state changes
 * persist it at once (context_state_changed()). */
#define CLOCK_SAVE_INTERVAL (10 * SEC_PER_MINUTE)

/* Pure: moves the mark (*high_water, set at CLOCK_BOOTTIME *hw_boottime) for
 * a reading of the wall clock (now) and of CLOCK_BOOTTIME (boottime), all in
 * seconds. The mark never moves back. */
void clock_mark_advance(int64_t *high_water, int64_t *hw_boottime, int64_t now, int64_t boottime);
/* Pure: whether the mark has moved far enough past what is on disk (saved)
 * to be written again. */
bool clock_mark_save_due(int64_t high_water, int64_t saved);

/* Current time, raising the high-water mark as it goes. */
int64_t context_now(Context *c);
void context_save_clock(Context *c);
