/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The verified-license cache file: verified_cache_parse() on any bytes
 * either refuses them (-EBADMSG) or gives a set that is strictly ascending,
 * finds each of its digests, and is written back byte for byte. */
#include "fuzz.h"
#include "macro.h"
#include "verified-cache.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_free_ void *again = NULL;
        _cleanup_(verified_cache_done) VerifiedCache c = {};
        size_t again_size;
        int r;

        /* The parser reads the count with memcpy(): no alignment to give it,
         * and libFuzzer's buffer is exactly size bytes for ASan. */
        r = verified_cache_parse(data, size, &c);
        if (r < 0) {
                fuzz_check(r == -EBADMSG || r == -ENOMEM, "verified_cache_parse: %d", r);
                return 0;
        }
        for (size_t i = 0; i < c.n; i++) {
                fuzz_check(i == 0 || memcmp(&c.digests[i - 1], &c.digests[i], VERIFIED_DIGEST_SIZE) < 0,
                           "digest %zu out of order", i);
                fuzz_check(verified_cache_contains(&c, &c.digests[i]), "digest %zu not found", i);
        }
        fuzz_check(verified_cache_format(&c, &again, &again_size) == 0, "format failed");
        fuzz_check(again_size == size && memcmp(again, data, size) == 0, "not written back as read");
        return 0;
}
