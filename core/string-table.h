/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* enum <-> string lookups from one table, in the spirit of systemd's
 * DEFINE_STRING_TABLE_LOOKUP(): the names are written once, as
 *
 *         static const char *const reason_table[_REASON_MAX] = {
 *                 [REASON_LICENSED] = "licensed", ...
 *         };
 *         DEFINE_STRING_TABLE_LOOKUP(reason, Reason);
 *
 * which defines reason_to_string() and reason_from_string(). The enums
 * follow one convention: values 0.._FOO_MAX-1, and _FOO_INVALID = -1, which
 * from_string() returns for NULL or an unknown name. to_string() returns
 * NULL for a value outside the table, so a corrupt value is never read
 * past the end. A NULL hole in the table is never matched. */

#include <stddef.h>
#include <string.h>

#include "macro.h"

#define _DEFINE_STRING_TABLE_LOOKUP_TO_STRING(name, type, scope)                                            \
        scope const char *name##_to_string(type i) {                                                        \
                if ((ptrdiff_t) i < 0 || (size_t) i >= ELEMENTSOF(name##_table))                            \
                        return NULL;                                                                        \
                return name##_table[i];                                                                     \
        }

#define _DEFINE_STRING_TABLE_LOOKUP_FROM_STRING(name, type, scope)                                          \
        scope type name##_from_string(const char *s) {                                                      \
                if (!s)                                                                                     \
                        return (type) -1;                                                                   \
                for (size_t i = 0; i < ELEMENTSOF(name##_table); i++)                                       \
                        if (name##_table[i] && strcmp(name##_table[i], s) == 0)                             \
                                return (type) i;                                                            \
                return (type) -1;                                                                           \
        }

/* Lets the macros below be written with a ';' after them, like a
 * declaration, without an empty declaration at file scope. */
#define _STRING_TABLE_SEMICOLON struct string_table_trailing_semicolon

#define DEFINE_STRING_TABLE_LOOKUP(name, type)                                                              \
        _DEFINE_STRING_TABLE_LOOKUP_TO_STRING(name, type, )                                                 \
        _DEFINE_STRING_TABLE_LOOKUP_FROM_STRING(name, type, )                                               \
        _STRING_TABLE_SEMICOLON

/* The same, file-local (static; a direction the file does not use is no
 * warning). */
#define DEFINE_PRIVATE_STRING_TABLE_LOOKUP(name, type)                                                      \
        _DEFINE_STRING_TABLE_LOOKUP_TO_STRING(name, type, static _unused_)                                  \
        _DEFINE_STRING_TABLE_LOOKUP_FROM_STRING(name, type, static _unused_)                                \
        _STRING_TABLE_SEMICOLON

#define DEFINE_PRIVATE_STRING_TABLE_LOOKUP_FROM_STRING(name, type)                                          \
        _DEFINE_STRING_TABLE_LOOKUP_FROM_STRING(name, type, static _unused_)                                \
        _STRING_TABLE_SEMICOLON
