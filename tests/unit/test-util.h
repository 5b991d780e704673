/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Shared by the unit tests: cmocka includes in the order it needs, and a
 * ready-made license to sign and tamper with. */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "license.h"
#include "timeutil.h"

#define T0 INT64_C(1767225600) /* 2026-01-01T00:00:00Z */
#define TEST_MACHINE_ID "0123456789abcdef0123456789abcdef"

/* Fills l with a subscription for com.example.app, bound to TEST_MACHINE_ID
 * and the given device key (base64). */
static inline void test_license_fill(License *l, const char *device_key) {
        license_init(l);
        l->id = strdup("acme-0001");
        l->revision = 1;
        l->product = strdup("com.example.app");
        l->licensee = strdup("ACME Corp");
        l->type = LICENSE_SUBSCRIPTION;
        l->issued = T0;
        l->not_after = T0 + 365 * SEC_PER_DAY;
        l->maintenance_until = T0 + 180 * SEC_PER_DAY;
        assert_int_equal(license_add_feature(l, "reports", TIME_UNSET, 0, NULL), 0);
        assert_int_equal(license_add_feature(l, "export", T0 + 30 * SEC_PER_DAY, 0, NULL), 0);
        assert_int_equal(license_add_feature(l, "seats", TIME_UNSET, 2, NULL), 0);
        assert_int_equal(license_set_property(l, "edition", "Enterprise", NULL), 0);
        if (device_key) {
                l->machine_id = strdup(TEST_MACHINE_ID);
                l->device_key = strdup(device_key);
        }
        l->validation_interval = SEC_PER_DAY;
        l->grace_period = 14 * SEC_PER_DAY;
}
