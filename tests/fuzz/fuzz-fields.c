/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* fields_parse() on any bytes. What it accepts is already canonical, so
 * writing the fields back with the FieldWriter must give the input. */
#include "fields.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_(fields_done) Fields f = {};
        _cleanup_free_ char *text = NULL;
        FieldWriter w = {};
        CoreError err = {};
        size_t len = 0;
        int r;

        r = fields_parse((const char *) data, size, &f, &err);
        if (r < 0) {
                fuzz_check_error(r, &err, "fields_parse");
                return 0;
        }
        fuzz_check(f.n > 0 && f.n <= FIELDS_MAX, "%zu fields", f.n);
        for (size_t i = 0; i < f.n; i++) {
                fuzz_check(f.items[i].line == i + 1, "field %zu says line %u", i, f.items[i].line);
                fuzz_check(strlen(f.items[i].value) <= FIELD_VALUE_MAX, "value too long");
                field_write(&w, f.items[i].name, f.items[i].value);
        }
        r = field_writer_finish(&w, &text, &len);
        fuzz_check(r >= 0, "the writer refuses what the parser accepted: %d", r);
        fuzz_check(len == size && memcmp(text, data, size) == 0, "writing the fields back changes the text");
        return 0;
}
