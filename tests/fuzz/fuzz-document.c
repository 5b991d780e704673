/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* document_decode() on any bytes, with a table that has a field of every
 * value kind (core/fields.h). For every accepted input:
 *
 *  - document_encode() takes the result, and its text decodes and encodes
 *    again to the same bytes (the canonical text is a fixpoint);
 *  - each value of a kind with one spelling (all but times and durations,
 *    which also take a bare date and bare seconds) comes out as it went in:
 *    no two spellings of a number, a key or an id are both accepted. */
#include <stddef.h>

#include "fields.h"
#include "fuzz.h"
#include "strutil.h"

typedef struct Doc {
        uint32_t number;
        int64_t count, when, period;
        bool flag;
        int color;
        char *id, *product, *hex, *pub, *key, *url, *text;
        char nonce[33];
        unsigned n_tags;
} Doc;

static void doc_done(Doc *d) {
        free(d->id);
        free(d->product);
        free(d->hex);
        free(d->pub);
        free(d->key);
        free(d->url);
        free(d->text);
}

static int parse_tag(void *doc, const Field *f, CoreError *err) {
        ((Doc *) doc)->n_tags++;
        return 0;
}

static void format_tags(FieldWriter *w, const char *name, const void *doc) {
        for (unsigned i = 0; i < ((const Doc *) doc)->n_tags; i++)
                field_write(w, name, "t");
}

static const char *const colors[] = {"red", "green", "blue"};

enum {
        D_FORMAT, D_NUMBER, D_COUNT, D_WHEN, D_PERIOD, D_FLAG, D_COLOR, D_ID, D_PRODUCT, D_HEX, D_PUB, D_KEY, D_URL,
        D_TEXT, D_NONCE, D_TAG,
        _D_MAX,
};

#define AT(m) .offset = offsetof(Doc, m)
static const FieldSpec fields[_D_MAX] = {
        [D_FORMAT] = {"format", FIELD_VERSION, .flags = FIELD_REQUIRED},
        [D_NUMBER] = {"number", FIELD_U32, AT(number)},
        [D_COUNT] = {"count", FIELD_COUNT, AT(count)},
        [D_WHEN] = {"when", FIELD_TIME, AT(when)},
        [D_PERIOD] = {"period", FIELD_DURATION, AT(period)},
        [D_FLAG] = {"flag", FIELD_BOOL, AT(flag)},
        [D_COLOR] = {"color", FIELD_ENUM, AT(color), .names = colors, .n_names = ELEMENTSOF(colors)},
        [D_ID] = {"id", FIELD_LICENSE_ID, AT(id)},
        [D_PRODUCT] = {"product", FIELD_PRODUCT, AT(product)},
        [D_HEX] = {"hex", FIELD_HEX, AT(hex), .max = 32},
        [D_PUB] = {"pub", FIELD_PUBLIC_KEY, AT(pub)},
        [D_KEY] = {"key", FIELD_LICENSE_KEY, AT(key)},
        [D_URL] = {"url", FIELD_URL, AT(url)},
        [D_TEXT] = {"text", FIELD_TEXT, AT(text), .max = 64},
        [D_NONCE] = {"nonce", FIELD_HEX, .flags = FIELD_INLINE, AT(nonce), .max = 32},
        [D_TAG] = {"tag", FIELD_CUSTOM, .flags = FIELD_REPEATED, .parse = parse_tag, .format = format_tags},
};
#undef AT

static const DocumentSpec spec = {"fuzz document", "1", fields, _D_MAX};

static const FieldSpec *spec_of(const char *name) {
        for (size_t i = 0; i < _D_MAX; i++)
                if (streq(fields[i].name, name))
                        return &fields[i];
        return NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_(doc_done) Doc d = {.color = -1, .period = -1}, d2 = {.color = -1, .period = -1};
        _cleanup_(fields_done) Fields f = {};
        _cleanup_free_ char *text = NULL, *text2 = NULL;
        size_t len, len2;
        CoreError err = {};
        int r;

        r = document_decode(&spec, (const char *) data, size, &d, NULL, NULL, &err);
        if (r < 0) {
                fuzz_check_error(r, &err, "document_decode");
                return 0;
        }
        r = document_encode(&spec, &d, FIELDS_ALL, &text, &len);
        fuzz_check(r >= 0, "document_encode refuses what was decoded: %d", r);
        err = (CoreError) {};
        r = document_decode(&spec, text, len, &d2, NULL, NULL, &err);
        fuzz_check(r >= 0, "the canonical text does not decode: %s\n%s", core_error_message(&err, r), text);
        r = document_encode(&spec, &d2, FIELDS_ALL, &text2, &len2);
        fuzz_check(r >= 0 && len == len2 && memcmp(text, text2, len) == 0, "the canonical text is not a fixpoint");

        fuzz_check(fields_parse((const char *) data, size, &f, NULL) >= 0, "fields_parse after document_decode");
        for (size_t i = 0; i < f.n; i++) {
                const FieldSpec *s = spec_of(f.items[i].name);
                _cleanup_free_ char *line = NULL;

                fuzz_check(s, "unknown field '%s' accepted", f.items[i].name);
                /* Times and durations have aliases; a tag is written as "t". */
                if (s->kind == FIELD_TIME || s->kind == FIELD_DURATION || s->kind == FIELD_CUSTOM)
                        continue;
                fuzz_check(asprintf(&line, "%s: %s\n", f.items[i].name, f.items[i].value) > 0, "asprintf");
                fuzz_check(strstr(text, line), "'%s' is written differently:\n%s", line, text);
        }
        return 0;
}
