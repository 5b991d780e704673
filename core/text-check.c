/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ctype.h>
#include <stdint.h>
#include <string.h>

#include "text-check.h"

/* The length of the printable UTF-8 character at p (before end), or 0 if
 * the bytes there are not one. */
static size_t utf8_printable_char_len(const unsigned char *p, const unsigned char *end, bool allow_tab) {
        uint32_t cp;
        size_t n;

        if (*p < 0x80) {
                if (*p < 0x20 && !(allow_tab && *p == '\t'))
                        return 0;
                return *p == 0x7f ? 0 : 1;
        }
        if ((*p & 0xe0) == 0xc0) {
                n = 2;
                cp = *p & 0x1f;
        } else if ((*p & 0xf0) == 0xe0) {
                n = 3;
                cp = *p & 0x0f;
        } else if ((*p & 0xf8) == 0xf0) {
                n = 4;
                cp = *p & 0x07;
        } else
                return 0;
        if ((size_t) (end - p) < n)
                return 0;
        for (size_t i = 1; i < n; i++) {
                if ((p[i] & 0xc0) != 0x80)
                        return 0;
                cp = (cp << 6) | (p[i] & 0x3f);
        }
        /* overlong forms, beyond Unicode, surrogates, C1 controls, and the
         * noncharacters (U+FDD0..U+FDEF, U+xxFFFE/U+xxFFFF), which sd-bus
         * refuses in D-Bus strings */
        if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > 0x10ffff ||
            (cp >= 0xd800 && cp <= 0xdfff) || (cp >= 0x80 && cp < 0xa0) || (cp >= 0xfdd0 && cp <= 0xfdef) ||
            (cp & 0xfffe) == 0xfffe)
                return 0;
        return n;
}

bool utf8_is_printable(const char *s, size_t len, bool allow_tab) {
        const unsigned char *p = (const unsigned char *) s, *end = p + len;

        while (p < end) {
                size_t n = utf8_printable_char_len(p, end, allow_tab);
                if (n == 0)
                        return false;
                p += n;
        }
        return true;
}

char *utf8_make_printable(char *s) {
        unsigned char *p = (unsigned char *) s, *end = p + strlen(s);

        while (p < end) {
                size_t n = utf8_printable_char_len(p, end, false);
                if (n == 0) {
                        *p = '?';
                        n = 1;
                }
                p += n;
        }
        return s;
}

bool identifier_is_valid(const char *s, size_t max) {
        size_t n;

        if (!s)
                return false;
        n = strlen(s);
        if (n == 0 || n > max || s[0] == '.' || s[0] == '-')
                return false;
        for (size_t i = 0; i < n; i++)
                if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9')) &&
                    s[i] != '.' && s[i] != '_' && s[i] != '-')
                        return false;
        return true;
}

bool hex_is_valid(const char *s, size_t len) {
        if (!s || strlen(s) != len)
                return false;
        for (size_t i = 0; i < len; i++)
                if (!isdigit((unsigned char) s[i]) && !(s[i] >= 'a' && s[i] <= 'f'))
                        return false;
        return true;
}
