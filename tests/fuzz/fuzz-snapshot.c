/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The fast-path snapshot, two ways.
 *
 * As a file: snapshot_open() on any bytes either refuses them (-EBADMSG,
 * -EPROTONOSUPPORT) or gives a snapshot whose index finds every entry, and
 * whose lookups of any name never read outside the bytes (ASan).
 *
 * As records: the input's lines "PRODUCT FEATURE" are built with
 * snapshot_build(); what it accepts must open and find every record again
 * with its verdict. */
#include "fuzz.h"
#include "macro.h"
#include "snapshot.h"

static void as_file(const uint8_t *data, size_t size) {
        /* malloc() aligns for the 64-bit fields, as the mapping would */
        _cleanup_free_ void *copy = malloc(size ?: 1);
        Snapshot s;
        Verdict v;
        int r;

        fuzz_check(copy, "out of memory");
        memcpy(copy, data, size);
        r = snapshot_open(copy, size, &s);
        if (r < 0) {
                fuzz_check(r == -EBADMSG || r == -EPROTONOSUPPORT, "snapshot_open: %d", r);
                return;
        }
        for (size_t i = 0; i < s.n_entries; i++) {
                const char *p = s.strings + s.entries[i].product, *f = s.strings + s.entries[i].feature;

                r = snapshot_lookup(&s, p, f, TIME_UNSET, s.written_at, &v);
                fuzz_check(r != -ENOENT && r != -EBADMSG, "entry %zu (%s, %s) not found: %d", i, p, f, r);
        }
        /* names the file does not have, built from its own bytes */
        _cleanup_free_ char *text = fuzz_strndup(data, size);
        (void) snapshot_lookup(&s, text, text, 1, s.written_at, &v);
        (void) snapshot_lookup(&s, "com.example.app", text, TIME_UNSET, s.written_at + 1, &v);
}

static void as_records(const uint8_t *data, size_t size) {
        _cleanup_free_ char *text = fuzz_strndup(data, size);
        _cleanup_free_ SnapshotRecord *records = NULL;
        _cleanup_free_ void *file = NULL;
        SnapshotInfo info = {.generation = 1, .written_at = 1700000000, .time_high_water = 1700000000};
        size_t n = 0, file_size;
        char *save = NULL;
        Snapshot s;
        Verdict v;
        int r;

        records = calloc(size / 2 + 1, sizeof(*records));
        fuzz_check(records, "out of memory");
        for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                char *space = strchr(line, ' ');

                if (!space)
                        continue;
                *space = 0;
                records[n] = (SnapshotRecord){
                        .product = line,
                        .feature = space + 1,
                        .verdict = {.reason = REASON_LICENSED, .licensed = true, .expires = (int64_t) n},
                };
                n++;
        }
        r = snapshot_build(records, n, &info, &file, &file_size);
        if (r < 0) {
                fuzz_check(r == -EINVAL || r == -E2BIG, "snapshot_build: %d", r);
                return;
        }
        r = snapshot_open(file, file_size, &s);
        fuzz_check(r == 0, "a snapshot as built does not open: %d", r);
        fuzz_check(s.n_entries == n, "%zu entries of %zu records", s.n_entries, n);
        for (size_t i = 0; i < n; i++) {
                r = snapshot_lookup(&s, records[i].product, records[i].feature, TIME_UNSET, info.written_at, &v);
                fuzz_check(r == 0 && v.expires == records[i].verdict.expires, "record %zu not found again: %d",
                           i, r);
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        as_file(data, size);
        as_records(data, size);
        return 0;
}
