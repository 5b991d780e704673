/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* verdict_aggregate(): several licenses' verdicts for one feature in, the
 * verdict the caller hears and until when it holds out. Table-driven: each
 * row folds its verdicts in the order given. */
#include "test-util.h"
#include "aggregate.h"

#define D SEC_PER_DAY
#define MAX_VERDICTS 4

#define LIC(exp, until) {.reason = REASON_LICENSED, .licensed = true, .expires = (exp), .valid_until = (until)}
#define GRACE(end, until)                                                                                   \
        {.reason = REASON_GRACE, .licensed = true, .grace_end = (end), .valid_until = (until)}
#define DENY(r, exp, until) {.reason = (r), .expires = (exp), .valid_until = (until)}

typedef struct Row {
        const char *name;
        Verdict in[MAX_VERDICTS];
        size_t n;
        Reason reason;       /* of the winner */
        int64_t expires;     /* of the winner */
        int64_t valid_until; /* the earliest of all */
} Row;

/* One row per case reads better than one field per line. */
/* clang-format off */
static const Row rows[] = {
        {"no license", {}, 0, REASON_NOT_INSTALLED, TIME_UNSET, TIME_UNSET},
        {"one license", {LIC(T0 + 30 * D, T0 + 30 * D)}, 1, REASON_LICENSED, T0 + 30 * D, T0 + 30 * D},
        {"one denial", {DENY(REASON_EXPIRED, T0, TIME_UNSET)}, 1, REASON_EXPIRED, T0, TIME_UNSET},
        {"licensed beats grace",
         {GRACE(T0 + 5 * D, T0 + 5 * D), LIC(T0 + 30 * D, T0 + 30 * D)},
         2, REASON_LICENSED, T0 + 30 * D, T0 + 5 * D},
        {"licensed beats grace, either order",
         {LIC(T0 + 30 * D, T0 + 30 * D), GRACE(T0 + 5 * D, T0 + 5 * D)},
         2, REASON_LICENSED, T0 + 30 * D, T0 + 5 * D},
        {"grace beats a denial",
         {DENY(REASON_REVOKED, TIME_UNSET, TIME_UNSET), GRACE(T0 + 5 * D, T0 + 5 * D)},
         2, REASON_GRACE, TIME_UNSET, T0 + 5 * D},
        {"a denial beats not-installed",
         {DENY(REASON_NOT_INSTALLED, TIME_UNSET, TIME_UNSET),
          DENY(REASON_WRONG_MACHINE, TIME_UNSET, TIME_UNSET)},
         2, REASON_WRONG_MACHINE, TIME_UNSET, TIME_UNSET},
        {"the later expiry wins between licensed",
         {LIC(T0 + 10 * D, T0 + 10 * D), LIC(T0 + 90 * D, T0 + 90 * D), LIC(T0 + 30 * D, T0 + 30 * D)},
         3, REASON_LICENSED, T0 + 90 * D, T0 + 10 * D},
        {"never expiring beats any date",
         {LIC(T0 + 90 * D, T0 + 90 * D), LIC(TIME_UNSET, TIME_UNSET)},
         2, REASON_LICENSED, TIME_UNSET, T0 + 90 * D},
        {"a date does not beat never",
         {LIC(TIME_UNSET, TIME_UNSET), LIC(T0 + 90 * D, T0 + 90 * D)},
         2, REASON_LICENSED, TIME_UNSET, T0 + 90 * D},
        {"between denials the later expiry wins",
         {DENY(REASON_EXPIRED, T0 - 10 * D, TIME_UNSET),
          DENY(REASON_FEATURE_EXPIRED, T0 - 2 * D, TIME_UNSET)},
         2, REASON_FEATURE_EXPIRED, T0 - 2 * D, TIME_UNSET},
        {"between equal denials the first wins",
         {DENY(REASON_REVOKED, T0, TIME_UNSET), DENY(REASON_EXPIRED, T0, TIME_UNSET)},
         2, REASON_REVOKED, T0, TIME_UNSET},
        {"a loser's deadline still counts: it may win then",
         {LIC(T0 + 90 * D, T0 + 90 * D), DENY(REASON_NOT_ACTIVATED, T0 + 365 * D, T0 + 3 * D)},
         2, REASON_LICENSED, T0 + 90 * D, T0 + 3 * D},
        {"all four kinds",
         {DENY(REASON_CLOCK_ROLLBACK, TIME_UNSET, TIME_UNSET), GRACE(T0 + 2 * D, T0 + 2 * D),
          DENY(REASON_NOT_INSTALLED, TIME_UNSET, TIME_UNSET), LIC(T0 + 7 * D, T0 + 7 * D)},
         4, REASON_LICENSED, T0 + 7 * D, T0 + 2 * D},
};
/* clang-format on */

static void test_table(void **state) {
        for (size_t i = 0; i < ELEMENTSOF(rows); i++) {
                const Row *row = &rows[i];
                Verdict best = VERDICT_NOT_INSTALLED;

                print_message("%s\n", row->name);
                for (size_t k = 0; k < row->n; k++)
                        verdict_aggregate(&best, &row->in[k]);
                assert_int_equal(best.reason, row->reason);
                assert_int_equal(best.expires, row->expires);
                assert_int_equal(best.valid_until, row->valid_until);
                assert_int_equal(best.licensed, row->reason == REASON_LICENSED || row->reason == REASON_GRACE);
        }
}

/* The winner is copied whole: grace_end and the seat limit come with it. */
static void test_winner_whole(void **state) {
        Verdict best = VERDICT_NOT_INSTALLED;
        Verdict a = {.reason = REASON_GRACE, .licensed = true, .grace_end = T0 + D, .limit = 3};
        Verdict b = {.reason = REASON_LIMIT_REACHED, .limit = 5};

        verdict_aggregate(&best, &b);
        verdict_aggregate(&best, &a);
        assert_int_equal(best.reason, REASON_GRACE);
        assert_int_equal(best.grace_end, T0 + D);
        assert_int_equal(best.limit, 3);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_table),
                cmocka_unit_test(test_winner_whole),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
