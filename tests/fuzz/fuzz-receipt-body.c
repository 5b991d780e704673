/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The receipt body parser, reached the only way it can be: the input is
 * signed as a VALIDATION RECEIPT with the committed test key
 * (tests/vectors/vendor.key), then verified with the key and with the fixed
 * product set. A receipt that verifies is signed again from its parsed form
 * (validation_receipt_sign) and must verify to the same receipt. */
#include "armor.h"
#include "fuzz.h"
#include "request.h"
#include "strutil.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_(validation_receipt_done) ValidationReceipt a = VALIDATION_RECEIPT_INIT,
                                                             b = VALIDATION_RECEIPT_INIT,
                                                             c = VALIDATION_RECEIPT_INIT;
        _cleanup_free_ char *text = NULL, *again = NULL;
        CoreError err = {};
        int r;

        if (size == 0 || size > 64 * 1024)
                return 0; /* armor_sign() wants a body; receipts are a few hundred bytes */
        r = armor_sign(fuzz_vendor_private(), "VALIDATION RECEIPT", data, size, &text);
        fuzz_check(r >= 0, "armor_sign: %d", r);

        r = validation_receipt_verify_with_key(text, strlen(text), fuzz_vendor_public(), &a, &err);
        if (r < 0) {
                fuzz_check_error(r, &err, "validation_receipt_verify_with_key");
                return 0;
        }
        fuzz_check(a.license_id && a.product && a.machine_id && a.nonce && a.validated != 0 &&
                           (a.status == RECEIPT_VALID || a.status == RECEIPT_REVOKED),
                   "a field is missing after a successful verify");

        err = (CoreError) {};
        r = validation_receipt_verify_with_products(text, strlen(text), fuzz_products(), &b, &err);
        if (streq(a.product, FUZZ_PRODUCT))
                fuzz_check(r >= 0, "signed receipt for %s refused: %s", a.product, core_error_message(&err, r));
        else {
                fuzz_check(r == (streq(a.product, FUZZ_OTHER_PRODUCT) ? -EPERM : -ENOENT),
                           "receipt for %s: expected refusal, got %d", a.product, r);
                fuzz_check_error(r, &err, "validation_receipt_verify_with_products");
        }

        r = validation_receipt_sign(&a, fuzz_vendor_private(), &again);
        fuzz_check(r >= 0, "validation_receipt_sign refuses a receipt that verified: %d", r);
        err = (CoreError) {};
        r = validation_receipt_verify_with_key(again, strlen(again), fuzz_vendor_public(), &c, &err);
        fuzz_check(r >= 0, "a re-signed receipt does not verify: %s", core_error_message(&err, r));
        fuzz_check(streq(a.license_id, c.license_id) && streq(a.product, c.product) &&
                           streq(a.machine_id, c.machine_id) && streq(a.nonce, c.nonce) &&
                           a.validated == c.validated && a.status == c.status,
                   "a re-signed receipt verifies to another receipt");
        return 0;
}
