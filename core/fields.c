/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <inttypes.h>
#include <stdarg.h>

#include "armor.h"
#include "base64.h"
#include "crypto.h"
#include "fields.h"
#include "license-key.h"
#include "license.h"
#include "product.h"
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

/* The codec --------------------------------------------------------------- */

/* Decimal digits with no sign, no spaces and no leading zero: strtoull()
 * alone would also take "+7", " 7" and "007" for the same number. */
static int parse_decimal(const char *s, uint64_t max, uint64_t *ret) {
        uint64_t v = 0;

        assert(s);
        if (!(s[0] >= '0' && s[0] <= '9') || (s[0] == '0' && s[1]))
                return -EINVAL;
        for (const char *p = s; *p; p++) {
                if (!(*p >= '0' && *p <= '9'))
                        return -EINVAL;
                if (v > (max - (uint64_t) (*p - '0')) / 10)
                        return -ERANGE;
                v = v * 10 + (uint64_t) (*p - '0');
        }
        *ret = v;
        return 0;
}

int field_parse_u32(const char *s, uint32_t *ret) {
        uint64_t v;
        int r;

        r = parse_decimal(s, UINT32_MAX, &v);
        if (r < 0)
                return r;
        *ret = (uint32_t) v;
        return 0;
}

static bool public_key_is_canonical(const char *v) {
        _cleanup_free_ uint8_t *raw = NULL;
        _cleanup_free_ char *canonical = NULL;
        size_t len;

        /* Exactly one text per key: 32 bytes whose re-encoding gives the
         * same string. OpenSSL takes any 32 bytes as a raw Ed25519 public
         * key, so building an EVP_PKEY here would check nothing more; it
         * cost 15% of a start with 10,000 stored licenses. */
        if (base64_decode(v, strlen(v), &raw, &len, NULL) < 0 || len != ED25519_PUBLIC_KEY_SIZE)
                return false;
        canonical = base64_encode(raw, len);
        return canonical && streq(v, canonical);
}

static bool license_key_is_canonical(const char *v, const Field *f, CoreError *err) {
        char canonical[LICENSE_KEY_STRING_SIZE];

        if (license_key_normalize(v, canonical, err) < 0) {
                core_error_prefix(err, "line %u: key: ", f->line);
                return false;
        }
        if (!streq(v, canonical)) {
                core_error_set(err, EBADMSG, "line %u: key is not in canonical form", f->line);
                return false;
        }
        return true;
}

/* "perpetual, subscription or trial" */
static void enum_list(const FieldSpec *s, char *buf, size_t size) {
        size_t n = 0;

        buf[0] = 0;
        for (size_t i = 0; i < s->n_names && n < size; i++)
                n += (size_t) snprintf(buf + n, size - n, "%s%s", i == 0 ? "" : i + 1 == s->n_names ? " or " : ", ",
                                       s->names[i]);
}

/* The validators of the string kinds: 0 if the value may be stored as it is. */
static int check_string(const FieldSpec *s, const Field *f, CoreError *err) {
        const char *v = f->value;

        switch (s->kind) {
        case FIELD_LICENSE_ID:
                if (!identifier_is_valid(v, LICENSE_ID_MAX))
                        return core_error_set(err, EBADMSG, "line %u: bad license id", f->line);
                return 0;
        case FIELD_PRODUCT:
                if (!product_id_is_valid(v))
                        return core_error_set(err, EBADMSG, "line %u: bad product id", f->line);
                return 0;
        case FIELD_HEX:
                if (!hex_is_valid(v, s->max))
                        return core_error_set(err, EBADMSG,
                                              "line %u: %s must be %zu lower-case hex digits (a %zu-bit value as "
                                              "%zu hex digits, 0-9 a-f)",
                                              f->line, f->name, s->max, s->max * 4, s->max);
                return 0;
        case FIELD_PUBLIC_KEY:
                if (!public_key_is_canonical(v))
                        return core_error_set(err, EBADMSG, "line %u: bad %s", f->line, f->name);
                return 0;
        case FIELD_LICENSE_KEY:
                return license_key_is_canonical(v, f, err) ? 0 : -EBADMSG;
        case FIELD_URL:
                if (!startswith(v, "https://") && !startswith(v, "http://"))
                        return core_error_set(err, EBADMSG, "line %u: %s must be http(s)", f->line, f->name);
                return 0;
        case FIELD_TEXT:
                if (strlen(v) > (s->max ?: FIELD_VALUE_MAX))
                        return core_error_set(err, EBADMSG, "line %u: %s is longer than %zu bytes", f->line,
                                              f->name, s->max ?: FIELD_VALUE_MAX);
                return 0;
        default:
                assert(false);
                return -EINVAL;
        }
}

static int store_string(const FieldSpec *s, const Field *f, uint8_t *p, CoreError *err) {
        if (s->flags & FIELD_INLINE) {
                /* An inline member holds max bytes and the NUL. */
                if (strlen(f->value) > s->max)
                        return core_error_set(err, EBADMSG, "line %u: %s is longer than %zu bytes", f->line,
                                              f->name, s->max);
                strcpy((char *) p, f->value);
                return 0;
        }
        *(char **) p = strdup(f->value);
        return *(char **) p ? 0 : -ENOMEM;
}

static int decode_value(const DocumentSpec *d, const FieldSpec *s, const Field *f, void *doc, CoreError *err) {
        uint8_t *p = (uint8_t *) doc + s->offset;
        const char *v = f->value;
        int r;

        switch (s->kind) {
        case FIELD_VERSION:
                if (f->line != 1)
                        return core_error_set(err, EBADMSG, "line %u: format line must come first", f->line);
                if (!streq(v, d->version))
                        return core_error_set(err, EPROTONOSUPPORT,
                                              "%s format version %.16s is not supported (this version reads "
                                              "%s): update licensed",
                                              d->what, v, d->version);
                return 0;
        case FIELD_U32:
                if (field_parse_u32(v, (uint32_t *) p) < 0)
                        return core_error_set(err, EBADMSG, "line %u: bad %s", f->line, f->name);
                return 0;
        case FIELD_COUNT: {
                uint64_t n;

                if (parse_decimal(v, INT64_MAX, &n) < 0)
                        return core_error_set(err, EBADMSG, "line %u: bad %s", f->line, f->name);
                *(int64_t *) p = (int64_t) n;
                return 0;
        }
        case FIELD_TIME:
                if (time_parse_rfc3339(v, (int64_t *) p, NULL) < 0)
                        return core_error_set(err, EBADMSG, "line %u: %s is not a UTC time", f->line, f->name);
                return 0;
        case FIELD_DURATION:
                if (duration_parse(v, (int64_t *) p, NULL) < 0)
                        return core_error_set(err, EBADMSG, "line %u: %s is not a duration", f->line, f->name);
                return 0;
        case FIELD_BOOL:
                if (!streq(v, "yes") && !streq(v, "no"))
                        return core_error_set(err, EBADMSG, "line %u: %s must be yes or no", f->line, f->name);
                *(bool *) p = streq(v, "yes");
                return 0;
        case FIELD_ENUM: {
                char list[256];

                for (size_t i = 0; i < s->n_names; i++)
                        if (streq(v, s->names[i])) {
                                *(int *) p = (int) i;
                                return 0;
                        }
                enum_list(s, list, sizeof(list));
                return core_error_set(err, EBADMSG, "line %u: unknown %s (%s)", f->line, s->noun ?: f->name, list);
        }
        case FIELD_CUSTOM:
                return s->parse(doc, f, err);
        default:
                r = check_string(s, f, err);
                if (r < 0)
                        return r;
                return store_string(s, f, p, err);
        }
}

_Static_assert(RFC3339_MAX <= 32, "a time's canonical spelling fits the buffer");

/* Whether a value that decoded into doc is spelled as the writer spells
 * it: a time as "2026-01-01T00:00:00Z", not a bare date; a duration as
 * "14d", not "336h" or "1209600". The decoded value is formatted again, not
 * the text parsed again. Other kinds have one spelling by their validator.
 * canonical gets the writer's spelling. */
static bool spelled_canonically(const FieldSpec *s, const Field *f, const void *doc, char canonical[static 32]) {
        const int64_t *v = (const int64_t *) ((const uint8_t *) doc + s->offset);

        switch (s->kind) {
        case FIELD_TIME:
                return streq(f->value, time_format_rfc3339(*v, canonical));
        case FIELD_DURATION:
                return streq(f->value, duration_format(*v, canonical));
        default:
                return true;
        }
}

int document_decode(const DocumentSpec *d, const char *body, size_t len, void *doc, uint32_t *ret_seen,
                    unsigned *ret_lines, CoreError *err) {
        _cleanup_(fields_done) Fields fields = {};
        uint32_t seen = 0, required = 0;
        unsigned lines[DOCUMENT_FIELDS_MAX] = {}, misplaced = 0;
        size_t last = 0, misplaced_after = 0;
        const Field *misspelt = NULL;
        char canonical[32] = "";
        int r;

        assert(d);
        assert(d->n_fields <= DOCUMENT_FIELDS_MAX);
        assert(doc);

        r = fields_parse(body, len, &fields, err);
        if (r < 0)
                return r;

        for (size_t i = 0; i < fields.n; i++) {
                const Field *f = &fields.items[i];
                size_t which;

                for (which = 0; which < d->n_fields; which++)
                        if (streq(f->name, d->fields[which].name))
                                break;
                if (which >= d->n_fields)
                        return core_error_set(err, EBADMSG, "line %u: unknown field '%s'", f->line, f->name);
                if ((seen & (UINT32_C(1) << which)) && !(d->fields[which].flags & FIELD_REPEATED))
                        return core_error_set(err, EBADMSG, "line %u: '%s' appears twice", f->line, f->name);
                /* One order per document, the writer's (the table's): the
                 * same fields in another order are other bytes. Reported
                 * last, below. */
                if (which < last && misplaced == 0) {
                        misplaced = f->line;
                        misplaced_after = last;
                }
                last = which;
                seen |= UINT32_C(1) << which;
                lines[which] = f->line;
                r = decode_value(d, &d->fields[which], f, doc, err);
                if (r < 0)
                        return r;
                if (!misspelt && !spelled_canonically(&d->fields[which], f, doc, canonical))
                        misspelt = f;
        }

        for (size_t i = 0; i < d->n_fields; i++)
                if (d->fields[i].flags & FIELD_REQUIRED)
                        required |= UINT32_C(1) << i;
        r = document_check_required(d, seen, required, NULL, err);
        if (r < 0)
                return r;
        if (d->check) {
                r = d->check(doc, seen, lines, err);
                if (r < 0)
                        return r;
        }
        /* The encoding rules last, so that a more specific error comes
         * first: each document has exactly one accepted encoding. */
        if (misspelt)
                return core_error_set(err, EBADMSG, "line %u: %s must be written %s", misspelt->line,
                                      misspelt->name, canonical);
        if (misplaced != 0) {
                const Field *f = NULL;

                for (size_t i = 0; i < fields.n && !f; i++)
                        if (fields.items[i].line == misplaced)
                                f = &fields.items[i];
                assert(f);
                return core_error_set(err, EBADMSG, "line %u: '%s' must come before '%s'", misplaced, f->name,
                                      d->fields[misplaced_after].name);
        }
        if (ret_seen)
                *ret_seen = seen;
        if (ret_lines)
                memcpy(ret_lines, lines, d->n_fields * sizeof(unsigned));
        return 0;
}

int document_decode_new(const DocumentType *t, const uint8_t *body, size_t len, void *ret, CoreError *err) {
        _cleanup_free_ void *doc = NULL;
        int r;

        doc = malloc(t->size);
        if (!doc)
                return -ENOMEM;
        memcpy(doc, t->init, t->size);
        r = document_decode(t->spec, (const char *) body, len, doc, NULL, NULL, err);
        if (r < 0) {
                t->done(doc);
                return r;
        }
        memcpy(ret, doc, t->size);
        return 0;
}

int document_encode_checked(const DocumentType *t, const void *doc, uint32_t include, char **ret,
                            size_t *ret_len) {
        _cleanup_free_ char *text = NULL;
        _cleanup_free_ void *check = NULL;
        size_t len;
        int r;

        r = document_encode(t->spec, doc, include, &text, &len);
        if (r < 0)
                return r;
        check = malloc(t->size);
        if (!check)
                return -ENOMEM;
        r = document_decode_new(t, (const uint8_t *) text, len, check, NULL);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return -EINVAL;
        t->done(check);
        *ret = TAKE_PTR(text);
        *ret_len = len;
        return 0;
}

int document_sign(const DocumentType *t, const void *doc, uint32_t include, EVP_PKEY *key, const char *self_public,
                  const char *kind, char **ret) {
        _cleanup_free_ char *body = NULL;
        size_t len;
        int r;

        r = document_encode_checked(t, doc, include, &body, &len);
        if (r < 0)
                return r;
        if (self_public)
                return armor_sign_self(key, self_public, kind, (const uint8_t *) body, len, ret);
        return armor_sign(key, kind, (const uint8_t *) body, len, ret);
}

int document_check_required(const DocumentSpec *d, uint32_t seen, uint32_t required, const char *noun,
                            CoreError *err) {
        assert(d);

        for (size_t i = 0; i < d->n_fields; i++)
                if ((required & (UINT32_C(1) << i)) && !(seen & (UINT32_C(1) << i)))
                        return core_error_set(err, EBADMSG, "required field '%s' is missing%s%s", d->fields[i].name,
                                              noun ? " from the " : "", noun ?: "");
        return 0;
}

static void encode_value(FieldWriter *w, const DocumentSpec *d, const FieldSpec *s, const void *doc) {
        const uint8_t *p = (const uint8_t *) doc + s->offset;
        bool required = s->flags & FIELD_REQUIRED;

        switch (s->kind) {
        case FIELD_VERSION:
                field_write(w, s->name, d->version);
                return;
        case FIELD_U32:
                field_writef(w, s->name, "%" PRIu32, *(const uint32_t *) p);
                return;
        case FIELD_COUNT:
                field_writef(w, s->name, "%" PRIi64, *(const int64_t *) p);
                return;
        case FIELD_TIME: {
                char buf[RFC3339_MAX];
                int64_t t = *(const int64_t *) p;

                if (t != TIME_UNSET || required)
                        field_write(w, s->name, time_format_rfc3339(t, buf));
                return;
        }
        case FIELD_DURATION:
                if (*(const int64_t *) p >= 0)
                        field_write_duration(w, s->name, *(const int64_t *) p);
                return;
        case FIELD_BOOL:
                field_write(w, s->name, *(const bool *) p ? "yes" : "no");
                return;
        case FIELD_ENUM: {
                int v = *(const int *) p;

                if (v >= 0 && (size_t) v < s->n_names)
                        field_write(w, s->name, s->names[v]);
                return;
        }
        case FIELD_CUSTOM:
                s->format(w, s->name, doc);
                return;
        default:
                if (s->flags & FIELD_INLINE) {
                        if (*(const char *) p)
                                field_write(w, s->name, (const char *) p);
                } else
                        field_write(w, s->name, *(char *const *) p);
        }
}

int document_encode(const DocumentSpec *d, const void *doc, uint32_t include, char **ret, size_t *ret_len) {
        FieldWriter w = {};

        assert(d);
        assert(doc);
        assert(ret);

        for (size_t i = 0; i < d->n_fields; i++)
                if (include & (UINT32_C(1) << i))
                        encode_value(&w, d, &d->fields[i], doc);
        return field_writer_finish(&w, ret, ret_len);
}
