/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <time.h>

#include "event-timer.h"

int event_timer_arm(sd_event *event, sd_event_source **source, uint64_t usec, uint64_t accuracy,
                    sd_event_time_handler_t callback, void *userdata) {
        uint64_t when;

        (void) sd_event_now(event, CLOCK_MONOTONIC, &when);
        when += usec;
        if (!*source)
                return sd_event_add_time(event, source, CLOCK_MONOTONIC, when, accuracy, callback, userdata);
        (void) sd_event_source_set_time(*source, when);
        (void) sd_event_source_set_enabled(*source, SD_EVENT_ONESHOT);
        return 0;
}
