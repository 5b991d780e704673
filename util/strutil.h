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

/* startswith() and isempty() are core's (macro.h): the parsers use them. */
