/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Small string helpers for the programs. The checks for text from outside
 * (UTF-8, identifiers, hex) are domain rules and live in core's
 * text-check.h; it is included here so that code that asks for strutil.h
 * gets both, as before the split. */

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "macro.h"
#include "text-check.h"

/* Skips leading and trailing ASCII whitespace in place; returns s. */
char *strstrip(char *s);

char *strdup_or_null(const char *s);

/* A NUL-terminated buffer that grows up to max bytes: what an HTTP client's
 * write callback collects an answer into. */
typedef struct CappedBuffer {
        char *data; /* NULL until something is appended */
        size_t len;
        size_t max;
        bool too_large; /* an append would have passed max */
} CappedBuffer;

/* Appends n bytes of p: 0, -EFBIG (too_large set, nothing appended) past
 * max, or -ENOMEM. */
int capped_buffer_append(CappedBuffer *b, const void *p, size_t n);

/* startswith() and isempty() are core's (macro.h): the parsers use them. */
