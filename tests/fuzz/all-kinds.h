/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* A made-up document with a field of every value kind of core/fields.h
 * (and a repeated custom one), for tests/unit/test-fields.c and
 * tests/fuzz/fuzz-document.c. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fields.h"

typedef enum Color { RED, GREEN, BLUE, _COLOR_MAX } Color;

static const char *const color_names[_COLOR_MAX] = {"red", "green", "blue"};

typedef struct Doc {
        uint32_t number;
        int64_t count, when, period;
        bool flag;
        Color color;
        char *id, *product, *hex, *pub, *key, *url, *text;
        char inline_hex[9];
        char tags[64];
} Doc;

static void doc_done(Doc *d) {
        free(d->id);
        free(d->product);
        free(d->hex);
        free(d->pub);
        free(d->key);
        free(d->url);
        free(d->text);
        *d = (Doc) {};
}

/* "tag: x" repeats; the tags are kept as "x,y". */
static int parse_tag(void *doc, const Field *f, CoreError *err) {
        Doc *d = doc;
        size_t n = strlen(d->tags);

        if (strchr(f->value, ','))
                return core_error_set(err, EBADMSG, "line %u: a tag has no comma", f->line);
        if (n + strlen(f->value) + 2 > sizeof(d->tags))
                return core_error_set(err, E2BIG, "line %u: too many tags", f->line);
        snprintf(d->tags + n, sizeof(d->tags) - n, "%s%s", n ? "," : "", f->value);
        return 0;
}

static void format_tags(FieldWriter *w, const char *name, const void *doc) {
        const Doc *d = doc;

        for (const char *t = d->tags, *comma; *t; t = comma ? comma + 1 : t + strlen(t)) {
                comma = strchr(t, ',');
                field_writef(w, name, "%.*s", (int) (comma ? (size_t) (comma - t) : strlen(t)), t);
        }
}

enum {
        D_FORMAT, D_NUMBER, D_COUNT, D_WHEN, D_PERIOD, D_FLAG, D_COLOR, D_ID, D_PRODUCT, D_HEX, D_PUB, D_KEY, D_URL,
        D_TEXT, D_INLINE, D_TAG,
        _D_MAX,
};

#define AT(m) .offset = offsetof(Doc, m)
static const FieldSpec doc_fields[_D_MAX] = {
        [D_FORMAT] = {"test-doc", FIELD_VERSION, .flags = FIELD_REQUIRED},
        [D_NUMBER] = {"number", FIELD_U32, .flags = FIELD_REQUIRED, AT(number)},
        [D_COUNT] = {"count", FIELD_COUNT, AT(count)},
        [D_WHEN] = {"when", FIELD_TIME, AT(when)},
        [D_PERIOD] = {"period", FIELD_DURATION, AT(period)},
        [D_FLAG] = {"flag", FIELD_BOOL, AT(flag)},
        [D_COLOR] = {"color", FIELD_ENUM, AT(color), .names = color_names, .n_names = _COLOR_MAX, .noun = "color"},
        [D_ID] = {"id", FIELD_LICENSE_ID, AT(id)},
        [D_PRODUCT] = {"product", FIELD_PRODUCT, AT(product)},
        [D_HEX] = {"hex", FIELD_HEX, AT(hex), .max = 32},
        [D_PUB] = {"pub", FIELD_PUBLIC_KEY, AT(pub)},
        [D_KEY] = {"key", FIELD_LICENSE_KEY, AT(key)},
        [D_URL] = {"url", FIELD_URL, AT(url)},
        [D_TEXT] = {"text", FIELD_TEXT, AT(text), .max = 10},
        [D_INLINE] = {"short-hex", FIELD_HEX, .flags = FIELD_INLINE, AT(inline_hex), .max = 8},
        [D_TAG] = {"tag", FIELD_CUSTOM, .flags = FIELD_REPEATED, .parse = parse_tag, .format = format_tags},
};
#undef AT

static const DocumentSpec doc_spec = {
        .what = "test document",
        .version = "1",
        .fields = doc_fields,
        .n_fields = _D_MAX,
};
