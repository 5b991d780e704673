/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Column-aligned tables (licensectl, licensed-vendor). Cells fill the rows
 * left to right; widths count UTF-8 characters. */

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "macro.h"

#define ANSI_NORMAL "\033[0m"

typedef struct Table Table;

/* Column headers, NULL-terminated. */
Table *table_new(const char *header, ...) __attribute__((sentinel));
/* Adds a column (header: kept, not copied) before the first cell. */
int table_add_column(Table *t, const char *header);
Table *table_free(Table *t);
DEFINE_TRIVIAL_CLEANUP_FUNC(Table *, table_free);
/* color: an ANSI sequence, "" or NULL (none). */
int table_add_cell(Table *t, const char *text, const char *color);
int table_add_cellf(Table *t, const char *fmt, ...) _printf_(2, 3);
size_t table_rows(const Table *t);
/* The header line only with legend, in header_color (an ANSI sequence, ""
 * or NULL). Returns negative errno. */
int table_print(const Table *t, FILE *f, bool legend, const char *header_color);
