/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "strutil.h"

char *strstrip(char *s) {
        char *e;

        while (isspace((unsigned char) *s))
                s++;
        e = s + strlen(s);
        while (e > s && isspace((unsigned char) e[-1]))
                *--e = 0;
        return s;
}

char *strdup_or_null(const char *s) {
        return s ? strdup(s) : NULL;
}

int capped_buffer_append(CappedBuffer *b, const void *p, size_t n) {
        char *m;

        if (n > b->max || b->len > b->max - n) {
                b->too_large = true;
                return -EFBIG;
        }
        m = realloc(b->data, b->len + n + 1);
        if (!m)
                return -ENOMEM;
        memcpy(m + b->len, p, n);
        b->data = m;
        b->len += n;
        b->data[b->len] = 0;
        return 0;
}
