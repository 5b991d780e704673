/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Column-aligned tables for terminals: widths in UTF-8 characters, not
 * bytes, so a licensee "Müller GmbH" lines up. */
#include <assert.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "table.h"

typedef struct Cell {
        char *text;
        const char *color;
} Cell;

struct Table {
        const char **headers;
        size_t n_columns;
        Cell *cells;
        size_t n_cells;
        size_t allocated;
};

Table *table_new(const char *header, ...) {
        Table *t = calloc(1, sizeof(Table));
        va_list ap;

        if (!t)
                return NULL;
        va_start(ap, header);
        for (const char *h = header; h; h = va_arg(ap, const char *))
                if (table_add_column(t, h) < 0) {
                        va_end(ap);
                        return table_free(t);
                }
        va_end(ap);
        return t;
}

int table_add_column(Table *t, const char *header) {
        const char **n;

        assert(t->n_cells == 0);
        n = reallocarray(t->headers, t->n_columns + 1, sizeof(char *));
        if (!n)
                return -ENOMEM;
        t->headers = n;
        t->headers[t->n_columns++] = header;
        return 0;
}

Table *table_free(Table *t) {
        if (!t)
                return NULL;
        for (size_t i = 0; i < t->n_cells; i++)
                free(t->cells[i].text);
        free(t->cells);
        free(t->headers);
        free(t);
        return NULL;
}

static int table_add_cell_take(Table *t, char *text, const char *color) {
        if (!text)
                return -ENOMEM;
        if (t->n_cells >= t->allocated) {
                size_t n = t->allocated ? t->allocated * 2 : 16;
                Cell *c = reallocarray(t->cells, n, sizeof(Cell));
                if (!c) {
                        free(text);
                        return -ENOMEM;
                }
                t->cells = c;
                t->allocated = n;
        }
        t->cells[t->n_cells++] = (Cell) {.text = text, .color = color && *color ? color : NULL};
        return 0;
}

int table_add_cell(Table *t, const char *text, const char *color) {
        return table_add_cell_take(t, strdup(text ?: ""), color);
}

int table_add_cellf(Table *t, const char *fmt, ...) {
        char *text;
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = vasprintf(&text, fmt, ap);
        va_end(ap);
        return table_add_cell_take(t, r < 0 ? NULL : text, NULL);
}

size_t table_rows(const Table *t) {
        return t->n_columns ? (t->n_cells + t->n_columns - 1) / t->n_columns : 0;
}

/* Terminal columns of UTF-8 text, counting each code point as one. */
static size_t text_width(const char *s) {
        size_t n = 0;

        for (; *s; s++)
                if (((unsigned char) *s & 0xc0) != 0x80)
                        n++;
        return n;
}

static void print_cell(FILE *f, const char *text, const char *color, size_t pad, bool last) {
        if (color)
                fprintf(f, "%s%s" ANSI_NORMAL, color, text);
        else
                fputs(text, f);
        if (last)
                fputc('\n', f);
        else
                fprintf(f, "%*s", (int) (pad - text_width(text) + 2), "");
}

int table_print(const Table *t, FILE *f, bool legend, const char *header_color) {
        _cleanup_free_ size_t *width = calloc(t->n_columns ?: 1, sizeof(size_t));
        size_t rows = table_rows(t);

        if (!width)
                return -ENOMEM;
        for (size_t col = 0; col < t->n_columns; col++) {
                if (legend)
                        width[col] = text_width(t->headers[col]);
                for (size_t row = 0; row < rows; row++) {
                        size_t i = row * t->n_columns + col;
                        if (i < t->n_cells && text_width(t->cells[i].text) > width[col])
                                width[col] = text_width(t->cells[i].text);
                }
        }

        if (legend)
                for (size_t col = 0; col < t->n_columns; col++)
                        print_cell(f, t->headers[col], header_color && *header_color ? header_color : NULL, width[col],
                                   col + 1 == t->n_columns);
        for (size_t row = 0; row < rows; row++)
                for (size_t col = 0; col < t->n_columns; col++) {
                        size_t i = row * t->n_columns + col;
                        print_cell(f, i < t->n_cells ? t->cells[i].text : "", i < t->n_cells ? t->cells[i].color : NULL,
                                   width[col], col + 1 == t->n_columns);
                }
        return 0;
}
