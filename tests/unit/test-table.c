/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>

#include "table.h"
#include "test-util.h"

/* What table_print() writes, as a string; free() it. */
static char *print_to_string(const Table *t, bool legend, const char *header_color) {
        char *text = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&text, &len);

        assert_non_null(f);
        assert_int_equal(table_print(t, f, legend, header_color), 0);
        assert_int_equal(fclose(f), 0);
        return text;
}

static void test_columns(void **state) {
        _cleanup_(table_freep) Table *t = table_new("ID", "LICENSEE", "DAYS", NULL);
        char *out;

        assert_non_null(t);
        assert_int_equal(table_rows(t), 0);
        assert_int_equal(table_add_cell(t, "acme-1", NULL), 0);
        /* nine characters, eleven bytes: lined up by characters */
        assert_int_equal(table_add_cell(t, "Müller Zü", NULL), 0);
        assert_int_equal(table_add_cellf(t, "%d", 30), 0);
        assert_int_equal(table_add_cell(t, "b", ""), 0);    /* "" is no colour */
        assert_int_equal(table_add_cell(t, NULL, NULL), 0); /* NULL is an empty cell */
        assert_int_equal(table_add_cellf(t, "%d", 5), 0);
        assert_int_equal(table_rows(t), 2);

        out = print_to_string(t, true, NULL);
        assert_string_equal(out, "ID      LICENSEE   DAYS\n"
                                 "acme-1  Müller Zü  30\n"
                                 "b                  5\n");
        free(out);

        out = print_to_string(t, false, NULL);
        assert_string_equal(out, "acme-1  Müller Zü  30\n"
                                 "b                  5\n");
        free(out);
}

static void test_partial_row_and_colour(void **state) {
        _cleanup_(table_freep) Table *t = table_new("A", "B", NULL);
        char *out;

        assert_non_null(t);
        assert_int_equal(table_add_cell(t, "x", "\033[1m"), 0);
        assert_int_equal(table_add_cell(t, "y", NULL), 0);
        assert_int_equal(table_add_cell(t, "long", NULL), 0); /* a row of one cell */
        assert_int_equal(table_rows(t), 2);

        /* the colour wraps the text, not the padding */
        out = print_to_string(t, true, "\033[4m");
        assert_string_equal(out, "\033[4mA" ANSI_NORMAL "     \033[4mB" ANSI_NORMAL "\n"
                                 "\033[1mx" ANSI_NORMAL "     y\n"
                                 "long  \n");
        free(out);
}

static void test_empty(void **state) {
        _cleanup_(table_freep) Table *t = table_new("ONLY", NULL);
        char *out;

        assert_non_null(t);
        out = print_to_string(t, true, "");
        assert_string_equal(out, "ONLY\n");
        free(out);
        out = print_to_string(t, false, NULL);
        assert_string_equal(out, "");
        free(out);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_columns),
                cmocka_unit_test(test_partial_row_and_colour),
                cmocka_unit_test(test_empty),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
