/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Events an administrator monitors: each a structured journal entry with
 * its own MESSAGE_ID and fields LICENSE_ID, PRODUCT, FEATURE, REASON,
 * DAYS_LEFT where they apply. systemd/licensed.catalog explains each one
 * (journalctl -x); docs/journal.md lists them for monitoring. */

#include <stdint.h>

#define EVENT_ACTIVATED "d1dd8e3960e54e2f808dffb9e76d855b"
#define EVENT_INSTALLED "4a3fd295de4e442ab22779d6af72c580"
#define EVENT_DEACTIVATED "b3ab3912b21344b8b688989c1752a6c0"
#define EVENT_VALIDATION_OK "5384d94f8d0f4099975cb419f698a3ea"
#define EVENT_VALIDATION_FAILED "a3a121cd96be44088571fa0a4e1bd943"
#define EVENT_GRACE_ENTERED "cddf6b16aa9d47948995de783b8423c3"
#define EVENT_GRACE_WARNING "0a2a867396a54a58991f50b90e7713f2"
#define EVENT_TRIAL_WARNING "f0708d2071fb49beae51e86095b8a7f2"
#define EVENT_GRACE_EXPIRED "14c8af12986f49b8a1ba092a412ed2a8"
#define EVENT_EXPIRED "7efa02d4a3814f3fab1b7d9e0412b5f5"
#define EVENT_REVOKED "2a768a71ffcc43c498850e85530e3a93"
#define EVENT_CLOCK_ROLLBACK "c6302f90bfac44ccacae61b8d613433b"
#define EVENT_FEATURE_DENIED "ed8a542524e24fdf9f13163b489978ba"

typedef struct EventFields {
        const char *license_id;
        const char *product;
        const char *feature;
        const char *reason;
        int64_t days_left; /* < 0: not set */
} EventFields;

/* Sends one event with a human MESSAGE and the fields that are set. */
void event_emit(const char *message_id, int priority, const EventFields *f, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));
