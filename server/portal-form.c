/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The bodies the portal's forms post: application/x-www-form-urlencoded,
 * "name=value&name=value" with '+' for a space and %XX escapes. */

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "macro.h"
#include "portal.h"

int url_hex_digit(char c) {
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        if (c >= 'A' && c <= 'F')
                return c - 'A' + 10;
        return -1;
}

/* Decodes n bytes of p into a new string; -EINVAL for a bad escape or a
 * NUL byte, escaped (%00) or sent as it is: C would end the value there. */
static int decode(const char *p, size_t n, char **ret) {
        char *out = malloc(n + 1), *o = out;

        if (!out)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                if (p[i] == '+')
                        *o++ = ' ';
                else if (p[i] != '%')
                        *o++ = p[i];
                else {
                        int hi = i + 2 < n ? url_hex_digit(p[i + 1]) : -1;
                        int lo = hi >= 0 ? url_hex_digit(p[i + 2]) : -1;

                        if (lo < 0) {
                                free(out);
                                return -EINVAL;
                        }
                        *o++ = (char) (hi << 4 | lo);
                        i += 2;
                }
                if (o[-1] == 0) {
                        free(out);
                        return -EINVAL;
                }
        }
        *o = 0;
        *ret = out;
        return 0;
}

int portal_form_get(const char *body, size_t len, const char *name, char **ret) {
        size_t name_len = strlen(name);
        const char *p = body, *end = body + len;

        *ret = NULL;
        while (body && p < end) {
                const char *amp = memchr(p, '&', (size_t) (end - p)), *field_end = amp ? amp : end;

                if ((size_t) (field_end - p) > name_len && strncmp(p, name, name_len) == 0 && p[name_len] == '=')
                        return decode(p + name_len + 1, (size_t) (field_end - p) - name_len - 1, ret);
                p = field_end + 1;
        }
        return 0;
}

bool portal_content_type_is_form(const char *v) {
        static const char form[] = "application/x-www-form-urlencoded";

        if (!v)
                return false;
        v += strspn(v, " \t");
        return strncasecmp(v, form, strlen(form)) == 0 && strchr("; \t", v[strlen(form)]) != NULL;
}
