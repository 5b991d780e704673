/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* One license object's properties as licensectl reads them (GetAll on the
 * License interface): shared by show, list --columns/--grep and the
 * summary install and activate print. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <systemd/sd-bus.h>

#include "licensectl.h"

typedef struct Feature {
        const char *name;
        bool licensed;
        const char *reason;
        uint64_t expires;
        uint64_t grace_end;
        uint32_t limit; /* 0 = not counted */
        uint32_t in_use;
} Feature;

typedef struct FeatureList {
        Feature *items;
        size_t n;
} FeatureList;

typedef struct Property {
        const char *name;
        const char *value;
} Property;

typedef struct PropertyList {
        Property *items;
        size_t n;
} PropertyList;

typedef struct LicenseInfo {
        const char *id;
        uint32_t revision;
        const char *product;
        const char *licensee;
        const char *type;
        const char *status;
        const char *key;
        uint64_t issued;
        uint64_t not_before;
        uint64_t expires;
        uint64_t maintenance_until;
        uint64_t installed;
        FeatureList features;
        PropertyList properties;
        uint64_t last_validation;
        uint64_t grace_end;
        uint64_t validation_interval;
        const char *server_url;
} LicenseInfo;

void license_info_done(LicenseInfo *l);

/* GetAll on the license object at path. Strings point into *ret_reply,
 * which the caller keeps and unrefs. Returns an exit status. */
int ctl_get_license_info(Ctl *c, const char *path, LicenseInfo *ret, sd_bus_message **ret_reply);

/* For a trial license: the whole days it has left, a day begun counting
 * as one, 0 once over; -1 for any other type (or a trial without an end).
 * The JSON's "trial_days_left". */
int64_t license_trial_days_left(const LicenseInfo *l, uint64_t now);

/* For a trial license: "14 days left", "1 day left" or "ended", in buf;
 * NULL for any other type (or a trial without an end). */
#define TRIAL_LEFT_MAX 32
const char *license_trial_left(const LicenseInfo *l, uint64_t now, char buf[static TRIAL_LEFT_MAX]);
/* The same of the days license_trial_days_left() gave. */
const char *trial_left_format(int64_t left, char buf[static TRIAL_LEFT_MAX]);
