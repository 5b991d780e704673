/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* validation_receipt_verify_with_key() (with tests/vectors/vendor.pub) and
 * validation_receipt_verify_with_products() on any text: armor, key lookup
 * and signature check of a VALIDATION RECEIPT. The body parser behind the
 * signature is fuzz-receipt-body. */
#include "fuzz.h"
#include "request.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_(validation_receipt_done) ValidationReceipt a = VALIDATION_RECEIPT_INIT,
                                                             b = VALIDATION_RECEIPT_INIT;
        CoreError err = {};
        int r;

        r = validation_receipt_verify_with_key((const char *) data, size, fuzz_vendor_public(), &a, &err);
        if (r < 0)
                fuzz_check_error(r, &err, "validation_receipt_verify_with_key");

        err = (CoreError) {};
        r = validation_receipt_verify_with_products((const char *) data, size, fuzz_products(), &b, &err);
        if (r < 0)
                fuzz_check_error(r, &err, "validation_receipt_verify_with_products");
        return 0;
}
