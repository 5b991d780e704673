/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* time_parse_rfc3339() and duration_parse() on any string. What parses
 * must survive format -> parse unchanged. The formatters also get the first
 * eight bytes as an arbitrary int64_t. */
#include <inttypes.h>

#include "fuzz.h"
#include "timeutil.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_free_ char *s = fuzz_strndup(data, size);
        char buf[RFC3339_MAX], dbuf[32];
        CoreError err = {};
        int64_t t, t2, d, d2;
        int r;

        r = time_parse_rfc3339(s, &t, &err);
        if (r < 0)
                fuzz_check_error(r, &err, "time_parse_rfc3339");
        else {
                fuzz_check(t >= 0, "'%s' parsed to %" PRId64, s, t);
                time_format_rfc3339(t, buf);
                r = time_parse_rfc3339(buf, &t2, NULL);
                fuzz_check(r >= 0 && t2 == t, "'%s' -> %" PRId64 " -> '%s' does not parse back", s, t, buf);
        }

        err = (CoreError) {};
        r = duration_parse(s, &d, &err);
        if (r < 0)
                fuzz_check_error(r, &err, "duration_parse");
        else {
                fuzz_check(d >= 0 && d <= INT64_MAX / 4, "'%s' parsed to %" PRId64, s, d);
                duration_format(d, dbuf);
                r = duration_parse(dbuf, &d2, NULL);
                fuzz_check(r >= 0 && d2 == d, "'%s' -> %" PRId64 " -> '%s' does not parse back", s, d, dbuf);
        }

        if (size >= sizeof(int64_t)) {
                int64_t v;

                memcpy(&v, data, sizeof(v));
                time_format_rfc3339(v, buf);
                fuzz_check(strlen(buf) < RFC3339_MAX, "overlong time text");
                duration_format(v, dbuf);
                (void) days_left(v / 4, (v / 4) ^ INT64_C(0x5555555555));
        }
        return 0;
}
