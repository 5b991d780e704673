/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The body of every signed document is a list of "name: value" lines, LF
 * terminated, UTF-8, no control characters. Names repeat only where the
 * format allows (feature, property). This is the one parser for them; the
 * typed readers (license.c, request.c) walk the result. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

#define FIELDS_MAX 1024
#define FIELD_NAME_MAX 32
#define FIELD_VALUE_MAX 1024

typedef struct Field {
        char name[FIELD_NAME_MAX];
        char *value;
        unsigned line;
} Field;

typedef struct Fields {
        Field *items;
        size_t n;
} Fields;

/* Splits body into fields. Errors say which line is wrong and why. */
int fields_parse(const char *body, size_t len, Fields *ret, CoreError *err);
void fields_done(Fields *f);

/* Builder for the canonical text: appends "name: value\n". */
typedef struct FieldWriter {
        char *buf;
        size_t len, cap;
        int error; /* sticky: first failure */
} FieldWriter;

void field_write(FieldWriter *w, const char *name, const char *value);
void field_writef(FieldWriter *w, const char *name, const char *fmt, ...) _printf_(3, 4);
void field_write_time(FieldWriter *w, const char *name, int64_t t);
void field_write_duration(FieldWriter *w, const char *name, int64_t d);
/* Returns the text (caller frees) or negative errno from the first failure. */
int field_writer_finish(FieldWriter *w, char **ret, size_t *ret_len);
