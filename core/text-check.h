/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Checks for text that crosses trust boundaries (license bodies, D-Bus
 * arguments, HTTP bodies, config values). They decide what a document may
 * contain, so they are part of the domain and live in core; the generic
 * string helpers are in util/strutil.h. */

#include <stdbool.h>
#include <stddef.h>

/* Well-formed UTF-8 (no overlongs, no surrogates, no noncharacters), no
 * control characters (tab allowed only if allow_tab). */
bool utf8_is_printable(const char *s, size_t len, bool allow_tab);

/* Replaces, in place, every byte that is not part of a printable UTF-8
 * character (control characters, tabs included; broken or cut sequences)
 * with '?', so that s may be put in a D-Bus string or on a terminal.
 * Returns s. */
char *utf8_make_printable(char *s);

/* 1..max characters of [A-Za-z0-9._-], not starting with '.' or '-': safe as
 * a file name, a D-Bus path element (after escaping) and a URL segment. */
bool identifier_is_valid(const char *s, size_t max);

/* Lower-case hex of exactly len characters. */
bool hex_is_valid(const char *s, size_t len);
