/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <stdarg.h>

#include "fields.h"
#include "text-check.h"
#include "timeutil.h"

void fields_done(Fields *f) {
        if (!f)
                return;
        for (size_t i = 0; i < f->n; i++)
                free(f->items[i].value);
        free(f->items);
        f->items = NULL;
        f->n = 0;
}

static bool name_char_ok(char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
}

int fields_parse(const char *body, size_t len, Fields *ret, CoreError *err) {
        _cleanup_(fields_done) Fields f = {};
        const char *p = body, *end = body + len;
        unsigned line = 0;

        assert(body || len == 0);
        assert(ret);

        if (len == 0)
                return core_error_set(err, EBADMSG, "the document is empty");
        if (body[len - 1] != '\n')
                return core_error_set(err, EBADMSG, "the document does not end with a newline (truncated?)");

        while (p < end) {
                const char *nl = memchr(p, '\n', (size_t) (end - p)), *colon;
                size_t nlen, vlen;
                Field *fld;

                line++;
                assert(nl); /* the last byte is '\n' */
                colon = memchr(p, ':', (size_t) (nl - p));
                if (!colon || colon == p || colon + 1 >= nl || colon[1] != ' ')
                        return core_error_set(err, EBADMSG, "line %u is not 'name: value'", line);
                nlen = (size_t) (colon - p);
                if (nlen >= FIELD_NAME_MAX)
                        return core_error_set(err, EBADMSG, "line %u: field name is too long", line);
                for (size_t i = 0; i < nlen; i++)
                        if (!name_char_ok(p[i]))
                                return core_error_set(err, EBADMSG, "line %u: bad character in field name", line);
                vlen = (size_t) (nl - colon - 2);
                if (vlen == 0)
                        return core_error_set(err, EBADMSG, "line %u: empty value", line);
                if (vlen > FIELD_VALUE_MAX)
                        return core_error_set(err, EBADMSG, "line %u: value longer than %d bytes", line,
                                              FIELD_VALUE_MAX);
                if (!utf8_is_printable(colon + 2, vlen, false))
                        return core_error_set(err, EBADMSG, "line %u: value is not printable UTF-8", line);
                if (f.n >= FIELDS_MAX)
                        return core_error_set(err, E2BIG, "more than %d fields", FIELDS_MAX);

                fld = realloc(f.items, (f.n + 1) * sizeof(Field));
                if (!fld)
                        return -ENOMEM;
                f.items = fld;
                fld = &f.items[f.n];
                memcpy(fld->name, p, nlen);
                fld->name[nlen] = 0;
                fld->line = line;
                fld->value = strndup(colon + 2, vlen);
                if (!fld->value)
                        return -ENOMEM;
                f.n++;
                p = nl + 1;
        }
        *ret = f;
        f = (Fields) {};
        return 0;
}

static void writer_append(FieldWriter *w, const char *s, size_t n) {
        if (w->error)
                return;
        if (w->len + n + 1 > w->cap) {
                size_t ncap = (w->cap + n + 1) * 2;
                char *b = realloc(w->buf, ncap);
                if (!b) {
                        w->error = -ENOMEM;
                        return;
                }
                w->buf = b;
                w->cap = ncap;
        }
        memcpy(w->buf + w->len, s, n);
        w->len += n;
        w->buf[w->len] = 0;
}

void field_write(FieldWriter *w, const char *name, const char *value) {
        size_t vlen;

        assert(w);
        assert(name);
        if (!value)
                return;
        vlen = strlen(value);
        /* The writer refuses to produce what the parser would refuse. */
        if (vlen == 0 || vlen > FIELD_VALUE_MAX || !utf8_is_printable(value, vlen, false)) {
                if (!w->error)
                        w->error = -EINVAL;
                return;
        }
        writer_append(w, name, strlen(name));
        writer_append(w, ": ", 2);
        writer_append(w, value, vlen);
        writer_append(w, "\n", 1);
}

void field_writef(FieldWriter *w, const char *name, const char *fmt, ...) {
        char buf[FIELD_VALUE_MAX + 2];
        va_list ap;
        int n;

        va_start(ap, fmt);
        n = vsnprintf(buf, sizeof(buf), fmt, ap);
        va_end(ap);
        if (n < 0 || n > FIELD_VALUE_MAX) {
                if (!w->error)
                        w->error = -EINVAL;
                return;
        }
        field_write(w, name, buf);
}

void field_write_time(FieldWriter *w, const char *name, int64_t t) {
        char buf[RFC3339_MAX];

        if (t == TIME_UNSET)
                return;
        field_write(w, name, time_format_rfc3339(t, buf));
}

void field_write_duration(FieldWriter *w, const char *name, int64_t d) {
        char buf[32];
        field_write(w, name, duration_format(d, buf));
}

int field_writer_finish(FieldWriter *w, char **ret, size_t *ret_len) {
        if (w->error) {
                int r = w->error;
                free(w->buf);
                *w = (FieldWriter) {};
                return r;
        }
        if (!w->buf)
                return -ENODATA;
        *ret = w->buf;
        *ret_len = w->len;
        *w = (FieldWriter) {};
        return 0;
}
