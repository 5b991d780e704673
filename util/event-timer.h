/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdint.h>
#include <systemd/sd-event.h>

/* Arms *source to fire once, usec from now on CLOCK_MONOTONIC: made on the
 * first call (with accuracy), moved and re-enabled on the later ones. The
 * daemon's timers (idle exit, re-evaluation, the start image's write, a
 * lease's renewal, libcurl's) all keep one source and move it like this.
 * Returns sd_event_add_time()'s error if the source could not be made. */
int event_timer_arm(sd_event *event, sd_event_source **source, uint64_t usec, uint64_t accuracy,
                    sd_event_time_handler_t callback, void *userdata);
