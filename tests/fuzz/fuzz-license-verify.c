/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What licensectl install / the Install method does with a license text:
 * license_verify_with_products() with a fixed set of installed products
 * (FUZZ_PRODUCT trusting tests/vectors/vendor.pub, FUZZ_OTHER_PRODUCT
 * trusting device.pub), and license_verify_with_key() with the vendor key.
 * A fuzzed signature almost never verifies: this covers the armor decoding,
 * the key lookup and the signature check on hostile input; the body parser
 * behind them is fuzz-license-body. */
#include "fuzz.h"
#include "license.h"
#include "strutil.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_(license_done) License l = LICENSE_INIT, lk = LICENSE_INIT;
        const Product *product = NULL;
        CoreError err = {};
        int r;

        r = license_verify_with_products((const char *) data, size, fuzz_products(), &l, &product, &err);
        if (r < 0)
                fuzz_check_error(r, &err, "license_verify_with_products");
        else
                fuzz_check(product && streq(product->id, l.product), "verified for another product");

        err = (CoreError) {};
        r = license_verify_with_key((const char *) data, size, fuzz_vendor_public(), &lk, &err);
        if (r < 0)
                fuzz_check_error(r, &err, "license_verify_with_key");
        return 0;
}
