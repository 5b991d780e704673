/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The clock high-water mark: raised on every reading of the time, saved
 * now and then and on every state change. */

#include <assert.h>
#include <time.h>

#include "clock.h"
#include "context.h"
#include "log.h"

void clock_mark_advance(int64_t *high_water, int64_t *hw_boottime, int64_t now, int64_t boottime) {
        assert(high_water);
        assert(hw_boottime);

        /* Real time passes at least as fast as CLOCK_BOOTTIME, which no one
         * can set: the mark moves with it, and moves further when the wall
         * clock is ahead. A wall clock behind the mark is what evaluate()
         * reports as clock-rollback. */
        if (*hw_boottime > 0 && boottime > *hw_boottime) {
                *high_water += boottime - *hw_boottime;
                *hw_boottime = boottime;
        }
        if (now > *high_water) {
                *high_water = now;
                *hw_boottime = boottime;
        }
}

bool clock_mark_save_due(int64_t high_water, int64_t saved) {
        return high_water - saved >= CLOCK_SAVE_INTERVAL;
}

static int64_t boottime_now(void) {
        struct timespec ts;
        clock_gettime(CLOCK_BOOTTIME, &ts);
        return (int64_t) ts.tv_sec;
}

void context_save_clock(Context *c) {
        ClockMark m = {.high_water = c->time_high_water, .boottime = c->hw_boottime};
        int r;

        memcpy(m.boot_id, c->boot_id, sizeof(m.boot_id));
        r = store_save_clock(&c->store, &m);
        if (r < 0)
                log_warning_errno(r, "Failed to save the clock high-water mark: %m");
        else
                c->clock_saved = c->time_high_water;
}

int64_t context_now(Context *c) {
        int64_t now = now_realtime();

        clock_mark_advance(&c->time_high_water, &c->hw_boottime, now, boottime_now());
        if (clock_mark_save_due(c->time_high_water, c->clock_saved))
                context_save_clock(c);
        return now;
}
