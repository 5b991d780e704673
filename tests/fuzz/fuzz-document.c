/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* document_decode() on any bytes, with the table of all-kinds.h, which has a
 * field of every value kind (core/fields.h). For every accepted input:
 *
 *  - document_encode() takes the result, and its text decodes and encodes
 *    again to the same bytes (the canonical text is a fixpoint);
 *  - each value of a kind with one spelling (all but times and durations,
 *    which also take a bare date and bare seconds) comes out as it went in:
 *    no two spellings of a number, a key or an id are both accepted. */
#include "all-kinds.h"
#include "fuzz.h"
#include "strutil.h"

static const FieldSpec *spec_of(const char *name) {
        for (size_t i = 0; i < _D_MAX; i++)
                if (streq(doc_fields[i].name, name))
                        return &doc_fields[i];
        return NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_(doc_done) Doc d = {.color = -1, .period = -1}, d2 = {.color = -1, .period = -1};
        _cleanup_(fields_done) Fields f = {};
        _cleanup_free_ char *text = NULL, *text2 = NULL;
        size_t len, len2;
        CoreError err = {};
        int r;

        r = document_decode(&doc_spec, (const char *) data, size, &d, NULL, NULL, &err);
        if (r < 0) {
                fuzz_check_error(r, &err, "document_decode");
                return 0;
        }
        r = document_encode(&doc_spec, &d, FIELDS_ALL, &text, &len);
        fuzz_check(r >= 0, "document_encode refuses what was decoded: %d", r);
        err = (CoreError) {};
        r = document_decode(&doc_spec, text, len, &d2, NULL, NULL, &err);
        fuzz_check(r >= 0, "the canonical text does not decode: %s\n%s", core_error_message(&err, r), text);
        r = document_encode(&doc_spec, &d2, FIELDS_ALL, &text2, &len2);
        fuzz_check(r >= 0 && len == len2 && memcmp(text, text2, len) == 0, "the canonical text is not a fixpoint");

        fuzz_check(fields_parse((const char *) data, size, &f, NULL) >= 0, "fields_parse after document_decode");
        for (size_t i = 0; i < f.n; i++) {
                const FieldSpec *s = spec_of(f.items[i].name);
                _cleanup_free_ char *line = NULL;

                fuzz_check(s, "unknown field '%s' accepted", f.items[i].name);
                /* Times and durations have aliases; tags are split at commas. */
                if (s->kind == FIELD_TIME || s->kind == FIELD_DURATION || s->kind == FIELD_CUSTOM)
                        continue;
                fuzz_check(asprintf(&line, "%s: %s\n", f.items[i].name, f.items[i].value) > 0, "asprintf");
                fuzz_check(strstr(text, line), "'%s' is written differently:\n%s", line, text);
        }
        return 0;
}
