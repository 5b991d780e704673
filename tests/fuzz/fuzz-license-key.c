/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* license_key_normalize() on anything a customer could type (or paste into
 * a D-Bus call). A key that normalizes is canonical afterwards: normalizing
 * it again gives the same text, and masking keeps its shape. */
#include "fuzz.h"
#include "license-key.h"
#include "strutil.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_free_ char *s = fuzz_strndup(data, size);
        char out[LICENSE_KEY_STRING_SIZE], again[LICENSE_KEY_STRING_SIZE], masked[LICENSE_KEY_STRING_SIZE];
        CoreError err = {};
        int r;

        r = license_key_normalize(s, out, &err);
        license_key_mask(s, masked); /* the display path sees raw input too */
        if (r < 0) {
                fuzz_check_error(r, &err, "license_key_normalize");
                return 0;
        }
        fuzz_check(strlen(out) == LICENSE_KEY_STRING_SIZE - 1, "canonical key '%s' has the wrong length", out);
        r = license_key_normalize(out, again, NULL);
        fuzz_check(r >= 0 && streq(out, again), "canonical key '%s' does not normalize to itself", out);
        license_key_mask(out, masked);
        fuzz_check(strncmp(masked, out, LICENSE_KEY_GROUP_LEN) == 0 && strlen(masked) == strlen(out),
                   "mask of '%s' is '%s'", out, masked);
        return 0;
}
