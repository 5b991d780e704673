/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Small string helpers for the programs. The checks for text from outside
 * (UTF-8, identifiers, hex) are domain rules and live in core's
 * text-check.h; it is included here so that code that asks for strutil.h
 * gets both, as before the split. */

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "text-check.h"

/* Skips leading and trailing ASCII whitespace in place; returns s. */
char *strstrip(char *s);

char *strdup_or_null(const char *s);

/* What follows PREFIX in S, or NULL when S does not start with it. */
static inline const char *startswith(const char *s, const char *prefix) {
        size_t n = strlen(prefix);
        return strncmp(s, prefix, n) == 0 ? s + n : NULL;
}

static inline bool isempty(const char *s) {
        return !s || !*s;
}
