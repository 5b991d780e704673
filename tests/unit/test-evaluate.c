/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Every reason of evaluate(), each at its boundary: one second before and
 * one second after the instant where the verdict changes. */
#include "test-util.h"
#include "evaluate.h"

#define DEVICE "ZGV2aWNlLWtleS1wbGFjZWhvbGRlci0zMmJ5dGVzISE="
#define DAY SEC_PER_DAY

typedef struct Case {
        const char *name;
        const char *feature;
        int64_t now;
        int64_t release_date;
        /* tweaks to the standard license / state */
        int64_t last_validation;
        int64_t high_water;
        bool revoked;
        bool other_machine;
        bool other_device;
        bool unbound;
        int64_t not_before;
        uint32_t seats_in_use;
        bool want_seat;
        bool no_license;
        /* expectations */
        Reason reason;
        int64_t valid_until; /* checked when non-zero */
} Case;

static const Case cases[] = {
        {"licensed", "reports", T0 + 1, .reason = REASON_LICENSED, .valid_until = T0 + DAY},
        {"no license", "reports", T0, .no_license = true, .reason = REASON_NOT_INSTALLED},
        {"no such feature", "nope", T0 + 1, .reason = REASON_NOT_INSTALLED},
        {"unbound", "reports", T0 + 1, .unbound = true, .reason = REASON_NOT_ACTIVATED},
        {"other machine", "reports", T0 + 1, .other_machine = true, .reason = REASON_WRONG_MACHINE},
        {"other device key", "reports", T0 + 1, .other_device = true, .reason = REASON_WRONG_MACHINE},
        {"revoked", "reports", T0 + 1, .revoked = true, .reason = REASON_REVOKED},

        /* not-before */
        {"before not-before", "reports", T0 + 10 * DAY - 1, .not_before = T0 + 10 * DAY,
         .last_validation = T0 + 10 * DAY, .reason = REASON_NOT_ACTIVATED, .valid_until = T0 + 10 * DAY},
        {"at not-before", "reports", T0 + 10 * DAY, .not_before = T0 + 10 * DAY, .last_validation = T0 + 10 * DAY,
         .reason = REASON_LICENSED},

        /* not-after: T0 + 365d; validation kept fresh */
        {"1s before expiry", "reports", T0 + 365 * DAY - 1, .last_validation = T0 + 365 * DAY - 10,
         .reason = REASON_LICENSED, .valid_until = T0 + 365 * DAY},
        {"at expiry", "reports", T0 + 365 * DAY, .last_validation = T0 + 365 * DAY - 10, .reason = REASON_EXPIRED},
        {"after expiry", "reports", T0 + 365 * DAY + 1, .last_validation = T0 + 365 * DAY - 10,
         .reason = REASON_EXPIRED},

        /* feature expiry: export until T0 + 30d */
        {"1s before feature expiry", "export", T0 + 30 * DAY - 1, .last_validation = T0 + 30 * DAY - 10,
         .reason = REASON_LICENSED, .valid_until = T0 + 30 * DAY},
        {"at feature expiry", "export", T0 + 30 * DAY, .last_validation = T0 + 30 * DAY - 10,
         .reason = REASON_FEATURE_EXPIRED},

        /* maintenance until T0 + 180d */
        {"release on maintenance day", "reports", T0 + 1, .release_date = T0 + 180 * DAY,
         .reason = REASON_LICENSED},
        {"release 1s after maintenance", "reports", T0 + 1, .release_date = T0 + 180 * DAY + 1,
         .reason = REASON_MAINTENANCE_EXPIRED},

        /* validation: interval 1d, grace 14d, counted from the last success */
        {"1s before due", "reports", T0 + 5 * DAY + DAY - 1, .last_validation = T0 + 5 * DAY,
         .reason = REASON_LICENSED, .valid_until = T0 + 6 * DAY},
        {"at due: grace", "reports", T0 + 6 * DAY, .last_validation = T0 + 5 * DAY, .reason = REASON_GRACE,
         .valid_until = T0 + 19 * DAY},
        {"1s before grace end", "reports", T0 + 19 * DAY - 1, .last_validation = T0 + 5 * DAY,
         .reason = REASON_GRACE},
        {"at grace end", "reports", T0 + 19 * DAY, .last_validation = T0 + 5 * DAY,
         .reason = REASON_VALIDATION_REQUIRED},
        {"never validated: from install", "reports", T0 + 14 * DAY, .reason = REASON_VALIDATION_REQUIRED},
        {"never validated, in grace", "reports", T0 + 14 * DAY - 1, .reason = REASON_GRACE},

        /* clock rollback: tolerance 1h */
        {"clock within tolerance", "reports", T0 + 2 * DAY - 3600, .last_validation = T0 + 2 * DAY - 7200,
         .high_water = T0 + 2 * DAY, .reason = REASON_LICENSED},
        {"clock 1s past tolerance", "reports", T0 + 2 * DAY - 3601, .last_validation = T0 + 2 * DAY - 7200,
         .high_water = T0 + 2 * DAY, .reason = REASON_CLOCK_ROLLBACK, .valid_until = T0 + 2 * DAY - 3600},
        {"rollback beats expiry", "reports", T0 + 400 * DAY, .high_water = T0 + 500 * DAY,
         .reason = REASON_CLOCK_ROLLBACK},

        /* seats: limit 2 */
        {"seat free", "seats", T0 + 1, .seats_in_use = 1, .want_seat = true, .reason = REASON_LICENSED},
        {"seats full", "seats", T0 + 1, .seats_in_use = 2, .want_seat = true, .reason = REASON_LIMIT_REACHED},
        {"seats full, only asking", "seats", T0 + 1, .seats_in_use = 2, .reason = REASON_LICENSED},

        /* precedence: revoked beats expired; wrong machine beats revoked */
        {"revoked and expired", "reports", T0 + 400 * DAY, .revoked = true, .reason = REASON_REVOKED},
        {"wrong machine and revoked", "reports", T0 + 1, .revoked = true, .other_machine = true,
         .reason = REASON_WRONG_MACHINE},
};

static void run_case(const Case *c) {
        _cleanup_(license_done) License l = LICENSE_INIT;
        LocalState st = {
                .machine_id = c->other_machine ? "ffffffffffffffffffffffffffffffff" : TEST_MACHINE_ID,
                .device_key = c->other_device ? "b3RoZXI=" : DEVICE,
                .revoked = c->revoked,
                .installed = T0,
                .last_validation = c->last_validation,
                .time_high_water = c->high_water,
                .clock_tolerance = SEC_PER_HOUR,
                .validation_interval = DAY,
                .grace_period = 14 * DAY,
                .seats_in_use = c->seats_in_use,
                .want_seat = c->want_seat,
        };
        Verdict v;

        test_license_fill(&l, c->unbound ? NULL : DEVICE);
        l.not_before = c->not_before;
        evaluate(c->no_license ? NULL : &l, &st, c->feature, c->now, c->release_date, &v);

        if (v.reason != c->reason)
                fail_msg("%s: got %s, expected %s", c->name, reason_to_string(v.reason), reason_to_string(c->reason));
        assert_int_equal(v.licensed, c->reason == REASON_LICENSED || c->reason == REASON_GRACE);
        if (c->valid_until && v.valid_until != c->valid_until)
                fail_msg("%s: valid_until %lld, expected %lld", c->name, (long long) v.valid_until,
                         (long long) c->valid_until);
}

static void test_table(void **state) {
        for (size_t i = 0; i < ELEMENTSOF(cases); i++)
                run_case(&cases[i]);
}

static void test_every_reason_covered(void **state) {
        bool seen[_REASON_MAX] = {};
        for (size_t i = 0; i < ELEMENTSOF(cases); i++)
                seen[cases[i].reason] = true;
        /* The floating reasons (REASON_NO_LEASE on) come from the daemon's
         * leases, never from evaluate(). */
        for (int r = 0; r < REASON_NO_LEASE; r++)
                if (!seen[r])
                        fail_msg("no case for %s", reason_to_string(r));
}

static void test_strings(void **state) {
        for (int r = 0; r < _REASON_MAX; r++) {
                assert_non_null(reason_to_string(r));
                assert_non_null(reason_to_description(r));
                assert_int_equal(reason_from_string(reason_to_string(r)), r);
        }
        assert_int_equal(reason_from_string("bogus"), _REASON_INVALID);
        assert_null(reason_to_string(_REASON_MAX));
}

/* No validation policy: licensed until expiry whatever the validation age. */
static void test_no_validation_policy(void **state) {
        _cleanup_(license_done) License l = LICENSE_INIT;
        LocalState st = {.machine_id = TEST_MACHINE_ID, .device_key = DEVICE, .installed = T0};
        Verdict v;

        test_license_fill(&l, DEVICE);
        evaluate(&l, &st, "reports", T0 + 300 * DAY, TIME_UNSET, &v);
        assert_int_equal(v.reason, REASON_LICENSED);
        assert_int_equal(v.grace_end, TIME_UNSET);
        assert_int_equal(v.valid_until, T0 + 365 * DAY);
}

/* The license as a whole: feature rules do not apply, the rest does. */
static void test_license_level(void **state) {
        _cleanup_(license_done) License l = LICENSE_INIT;
        LocalState st = {.machine_id = TEST_MACHINE_ID, .device_key = DEVICE, .installed = T0,
                         .validation_interval = DAY, .grace_period = 14 * DAY};
        Verdict v;

        test_license_fill(&l, DEVICE);
        evaluate(&l, &st, NULL, T0 + 40 * DAY, TIME_UNSET, &v); /* past the export feature's end */
        assert_int_equal(v.reason, REASON_VALIDATION_REQUIRED);
        st.last_validation = T0 + 40 * DAY - 10;
        evaluate(&l, &st, NULL, T0 + 40 * DAY, TIME_UNSET, &v);
        assert_int_equal(v.reason, REASON_LICENSED);
        assert_int_equal(v.expires, T0 + 365 * DAY);
        evaluate(&l, &st, NULL, T0 + 365 * DAY, TIME_UNSET, &v);
        assert_int_equal(v.reason, REASON_EXPIRED);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_table),
                cmocka_unit_test(test_every_reason_covered),
                cmocka_unit_test(test_strings),
                cmocka_unit_test(test_no_validation_policy),
                cmocka_unit_test(test_license_level),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
