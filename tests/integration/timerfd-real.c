/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Preloaded before libfaketime in the time-travel tests. libfaketime 0.9.10
 * shifts every absolute timerfd deadline by the faked wall-clock offset,
 * whatever the timer's clock, which turns sd-event's monotonic deadlines
 * negative (EINVAL). licensed arms only CLOCK_MONOTONIC timers and the tests
 * keep monotonic clocks real (FAKETIME_DONT_FAKE_MONOTONIC=1), so the
 * kernel's own timerfd calls are the right ones: libfaketime still fakes
 * every wall-clock reading. */
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <unistd.h>

__attribute__((visibility("default"))) int timerfd_settime(int fd, int flags, const struct itimerspec *new_value,
                                                           struct itimerspec *old_value) {
        return (int) syscall(SYS_timerfd_settime, fd, flags, new_value, old_value);
}

__attribute__((visibility("default"))) int timerfd_gettime(int fd, struct itimerspec *curr_value) {
        return (int) syscall(SYS_timerfd_gettime, fd, curr_value);
}
