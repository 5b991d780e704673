/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The daemon's clock high-water mark (daemon/clock.c): it follows the wall
 * clock forward, follows CLOCK_BOOTTIME when the wall clock stands still or
 * goes back, never moves back itself, and is saved every
 * CLOCK_SAVE_INTERVAL. */
#include "test-util.h"
#include "clock.h"

typedef struct Step {
        int64_t now, boottime;           /* the readings */
        int64_t high_water, hw_boottime; /* the mark after them */
} Step;

static void run(int64_t high_water, int64_t hw_boottime, const Step *steps, size_t n) {
        for (size_t i = 0; i < n; i++) {
                clock_mark_advance(&high_water, &hw_boottime, steps[i].now, steps[i].boottime);
                print_message("step %zu\n", i);
                assert_int_equal(high_water, steps[i].high_water);
                assert_int_equal(hw_boottime, steps[i].hw_boottime);
        }
}

static void test_wall_clock_ahead(void **state) {
        static const Step steps[] = {
                {T0 + 10, 110, T0 + 10, 110},
                {T0 + 20, 120, T0 + 20, 120},
                /* the wall clock jumps ahead: the mark follows */
                {T0 + 5000, 121, T0 + 5000, 121},
        };
        run(T0, 100, steps, ELEMENTSOF(steps));
}

static void test_wall_clock_back(void **state) {
        static const Step steps[] = {
                /* set back an hour: the mark stays, and keeps moving with boottime */
                {T0 - 3600, 101, T0 + 1, 101},
                {T0 - 3590, 111, T0 + 11, 111},
                /* caught up: the wall clock leads again */
                {T0 + 100, 112, T0 + 100, 112},
        };
        run(T0, 100, steps, ELEMENTSOF(steps));
}

static void test_no_boottime_yet(void **state) {
        /* A mark from a previous boot has no boottime of this one: only the
         * wall clock can move it, and that records this boot's time. */
        static const Step steps[] = {
                {T0 - 10, 50, T0, 0},
                {T0 + 10, 60, T0 + 10, 60},
                {T0 + 10, 70, T0 + 20, 70},
        };
        run(T0, 0, steps, ELEMENTSOF(steps));
}

static void test_boottime_not_back(void **state) {
        /* A boottime reading behind the mark's (it cannot be, but a reading
         * from before a restart of the count must not move the mark back). */
        static const Step steps[] = {
                {T0 - 100, 90, T0, 100},
        };
        run(T0, 100, steps, ELEMENTSOF(steps));
}

static void test_save_due(void **state) {
        assert_false(clock_mark_save_due(T0, T0));
        assert_false(clock_mark_save_due(T0 + CLOCK_SAVE_INTERVAL - 1, T0));
        assert_true(clock_mark_save_due(T0 + CLOCK_SAVE_INTERVAL, T0));
        assert_true(clock_mark_save_due(T0, TIME_UNSET)); /* never saved */
        assert_false(clock_mark_save_due(T0, T0 + 10));   /* the disk is ahead (loaded a later mark) */
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_wall_clock_ahead), cmocka_unit_test(test_wall_clock_back),
                cmocka_unit_test(test_no_boottime_yet),  cmocka_unit_test(test_boottime_not_back),
                cmocka_unit_test(test_save_due),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
