/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* D-Bus times and durations are microseconds (sd-bus, sd-event); core's
 * are seconds (core/timeutil.h). The conversions, once. */

#include <stdint.h>
#include <time.h>

#define USEC_PER_SEC UINT64_C(1000000)
#define USEC_PER_MSEC UINT64_C(1000)
#define NSEC_PER_USEC UINT64_C(1000)

/* Seconds since the epoch as D-Bus µs; 0 (and anything before 1970) stays 0,
 * D-Bus's "unset". */
static inline uint64_t usec_from_sec(int64_t t) {
        return t <= 0 ? 0 : (uint64_t) t * USEC_PER_SEC;
}

static inline int64_t usec_to_sec(uint64_t usec) {
        return (int64_t) (usec / USEC_PER_SEC);
}

static inline uint64_t now_usec(clockid_t clock) {
        struct timespec ts;

        clock_gettime(clock, &ts);
        return (uint64_t) ts.tv_sec * USEC_PER_SEC + (uint64_t) ts.tv_nsec / NSEC_PER_USEC;
}
