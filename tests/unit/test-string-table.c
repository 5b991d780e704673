/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "test-util.h"

#include "evaluate.h"
#include "request.h"
#include "string-table.h"

typedef enum Colour {
        COLOUR_RED,
        COLOUR_GREEN,
        COLOUR_UNNAMED, /* a hole in the table */
        COLOUR_BLUE,
        _COLOUR_MAX,
        _COLOUR_INVALID = -1,
} Colour;

static const char *const colour_table[_COLOUR_MAX] = {
        [COLOUR_RED] = "red",
        [COLOUR_GREEN] = "green",
        [COLOUR_BLUE] = "blue",
};

DEFINE_PRIVATE_STRING_TABLE_LOOKUP(colour, Colour);

typedef enum Shape {
        SHAPE_SQUARE,
        SHAPE_ROUND,
        _SHAPE_MAX,
        _SHAPE_INVALID = -1,
} Shape;

static const char *const shape_table[_SHAPE_MAX] = {
        [SHAPE_SQUARE] = "square",
        [SHAPE_ROUND] = "round",
};

DEFINE_PRIVATE_STRING_TABLE_LOOKUP_FROM_STRING(shape, Shape);

static void test_to_string(void **state) {
        assert_string_equal(colour_to_string(COLOUR_RED), "red");
        assert_string_equal(colour_to_string(COLOUR_GREEN), "green");
        assert_string_equal(colour_to_string(COLOUR_BLUE), "blue");
        assert_null(colour_to_string(COLOUR_UNNAMED));
        assert_null(colour_to_string(_COLOUR_MAX));
        assert_null(colour_to_string(_COLOUR_INVALID));
        assert_null(colour_to_string((Colour) -42));
        assert_null(colour_to_string((Colour) 1000));
}

static void test_from_string(void **state) {
        assert_int_equal(colour_from_string("red"), COLOUR_RED);
        assert_int_equal(colour_from_string("green"), COLOUR_GREEN);
        assert_int_equal(colour_from_string("blue"), COLOUR_BLUE);
        /* exact and case-sensitive; the hole matches nothing, NULL included */
        assert_int_equal(colour_from_string("Red"), _COLOUR_INVALID);
        assert_int_equal(colour_from_string("red "), _COLOUR_INVALID);
        assert_int_equal(colour_from_string("re"), _COLOUR_INVALID);
        assert_int_equal(colour_from_string(""), _COLOUR_INVALID);
        assert_int_equal(colour_from_string(NULL), _COLOUR_INVALID);

        assert_int_equal(shape_from_string("round"), SHAPE_ROUND);
        assert_int_equal(shape_from_string("square"), SHAPE_SQUARE);
        assert_int_equal(shape_from_string("oval"), _SHAPE_INVALID);
}

/* Every name of the domain's tables goes there and back, and nothing past
 * the ends has a name. */
static void test_domain_tables(void **state) {
        for (int i = 0; i < _REASON_MAX; i++) {
                assert_non_null(reason_to_string((Reason) i));
                assert_int_equal(reason_from_string(reason_to_string((Reason) i)), i);
        }
        assert_null(reason_to_string(_REASON_MAX));
        assert_null(reason_to_string(_REASON_INVALID));
        assert_string_equal(reason_to_string(REASON_CLOCK_ROLLBACK), "clock-rollback");
        assert_int_equal(reason_from_string("not-a-reason"), _REASON_INVALID);
        assert_int_equal(reason_from_string(NULL), _REASON_INVALID);

        for (int i = 0; i < _LICENSE_TYPE_MAX; i++)
                assert_int_equal(license_type_from_string(license_type_to_string((LicenseType) i)), i);
        assert_string_equal(license_type_to_string(LICENSE_TRIAL), "trial");
        assert_null(license_type_to_string(_LICENSE_TYPE_MAX));
        assert_int_equal(license_type_from_string("Trial"), _LICENSE_TYPE_INVALID);

        for (int i = 0; i < _MACHINE_REQUEST_TYPE_MAX; i++)
                assert_int_equal(machine_request_type_from_string(
                                         machine_request_type_to_string((MachineRequestType) i)),
                                 i);
        assert_string_equal(machine_request_type_to_string(MACHINE_REQUEST_DEACTIVATION), "deactivation");
        assert_null(machine_request_type_to_string(_MACHINE_REQUEST_TYPE_INVALID));
        /* the armor kind is not the body's type */
        assert_int_equal(machine_request_type_from_string("ACTIVATION REQUEST"),
                         _MACHINE_REQUEST_TYPE_INVALID);

        for (int i = 0; i < _RECEIPT_STATUS_MAX; i++)
                assert_int_equal(receipt_status_from_string(receipt_status_to_string((ReceiptStatus) i)), i);
        assert_string_equal(receipt_status_to_string(RECEIPT_REVOKED), "revoked");
        assert_null(receipt_status_to_string(_RECEIPT_STATUS_MAX));
        assert_int_equal(receipt_status_from_string(NULL), _RECEIPT_STATUS_INVALID);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_to_string),
                cmocka_unit_test(test_from_string),
                cmocka_unit_test(test_domain_tables),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
