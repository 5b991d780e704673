/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The license fields as licensed-vendor's options name them ("not-after")
 * and the text each takes: one syntax for 'issue', 'entitlement create',
 * 'upgrade' and the admin API of licensed-server (docs/vendor-guide.md). */

#include "error.h"
#include "license.h"

typedef enum LicenseField {
        LICENSE_FIELD_ID,
        LICENSE_FIELD_REVISION,
        LICENSE_FIELD_PRODUCT,
        LICENSE_FIELD_LICENSEE,
        LICENSE_FIELD_TYPE,
        LICENSE_FIELD_ISSUED,
        LICENSE_FIELD_NOT_BEFORE,
        LICENSE_FIELD_NOT_AFTER,
        LICENSE_FIELD_MAINTENANCE_UNTIL,
        LICENSE_FIELD_FEATURE,  /* NAME[:limit=N,expires=TIME], added */
        LICENSE_FIELD_PROPERTY, /* NAME=VALUE, added or replaced */
        LICENSE_FIELD_LICENSE_KEY,
        LICENSE_FIELD_MACHINE_ID,
        LICENSE_FIELD_DEVICE_KEY,
        LICENSE_FIELD_NONCE,
        LICENSE_FIELD_VALIDATION_INTERVAL,
        LICENSE_FIELD_GRACE_PERIOD,
        LICENSE_FIELD_SERVER_URL,
        _LICENSE_FIELD_MAX,
} LicenseField;

/* The field an option name ("not-after", or "not_after" as in a spec file
 * and the API's JSON) names; -EINVAL if none. */
LicenseField license_field_from_name(const char *name);

/* Applies the text v of one field to l, with the checks 'issue' makes. */
int license_field_apply(License *l, LicenseField which, const char *v, CoreError *err);

/* Both at once; "'x' is not a license field" for an unknown name. */
int license_field_apply_named(License *l, const char *name, const char *v, CoreError *err);
