/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Answers of the licensing server, read as daemon/online.c reads them: the
 * body through json_parse_object() (core/json-object.c, the same strict
 * parser licensed-server uses for requests), then each handler's members
 * through json_get_string():
 *
 *   activation     "license" (string, required)
 *   validation     "status", "receipt" (required), "license" (optional)
 *   deactivation   "status" (required)
 *   HTTP >= 400    "error": {"message": string}, json_error_message()
 *
 * and every document string goes where op_install() (daemon/install.c)
 * sends it: armor_decode(), the canonical armor_encode(), then
 * license_verify_with_products() or validation_receipt_verify_with_products()
 * with the fixed product set of fuzz.c. Every error message must be
 * printable (fuzz_check_error()).
 *
 * json-c itself is the system library, not built with the sanitizers: ASan
 * sees its allocations and our reads of its results, not its own reads. */
#include "armor.h"
#include "fuzz.h"
#include "json-object.h"
#include "license.h"
#include "request.h"
#include "strutil.h"

/* json_get_string(), its result checked; NULL when absent or refused. */
static const char *get_string(json_object *o, const char *name, bool required, bool *bad) {
        CoreError err = {};
        const char *v = NULL;
        int r;

        r = json_get_string(o, name, required, &v, &err);
        if (r < 0) {
                fuzz_check_error(r, &err, "json_get_string");
                fuzz_check(r == -ENOENT || r == -EBADMSG, "json_get_string: unexpected %d", r);
                *bad = true;
                return NULL;
        }
        fuzz_check(!required || v, "json_get_string: a required member came back NULL");
        return v;
}

/* daemon/install.c op_install() and what it calls, without the store. */
static void install(const char *text) {
        _cleanup_(armor_done) Armor a = {};
        _cleanup_free_ char *canonical = NULL;
        size_t len = strlen(text);
        CoreError err = {};
        int r;

        r = armor_decode(text, len, NULL, &a, &err);
        if (r < 0) {
                fuzz_check_error(r, &err, "armor_decode");
                return;
        }
        r = armor_encode(a.kind, a.key_id, a.signature, a.body, a.body_len, &canonical);
        fuzz_check(r >= 0, "armor_encode of a decoded block failed: %d", r);
        err = (CoreError) {};
        if (streq(a.kind, "LICENSE")) {
                _cleanup_(license_done) License l = LICENSE_INIT;
                const Product *p = NULL;

                r = license_verify_with_products(canonical, strlen(canonical), fuzz_products(), &l, &p, &err);
                if (r < 0)
                        fuzz_check_error(r, &err, "license_verify_with_products");
        } else if (streq(a.kind, "VALIDATION RECEIPT")) {
                _cleanup_(validation_receipt_done) ValidationReceipt rc = VALIDATION_RECEIPT_INIT;

                r = validation_receipt_verify_with_products(canonical, strlen(canonical), fuzz_products(), &rc,
                                                            &err);
                if (r < 0)
                        fuzz_check_error(r, &err, "validation_receipt_verify_with_products");
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        const char *license, *status, *receipt, *message;
        json_object *o = NULL;
        CoreError err = {};
        bool bad = false;
        int r;

        if (size > 512 * 1024)
                return 0; /* HTTP_RESPONSE_MAX in daemon/http.h */
        r = json_parse_object((const char *) data, size, &o, &err);
        if (r < 0) {
                fuzz_check_error(r, &err, "json_parse_object");
                fuzz_check(r == -EBADMSG || r == -EDOM, "json_parse_object: unexpected %d", r);
                return 0;
        }
        fuzz_check(json_object_is_type(o, json_type_object), "json_parse_object returned a non-object");

        /* HTTP status >= 400: the reason the server gives. */
        message = json_error_message(o);
        if (message)
                (void) strlen(message);

        /* Activation. */
        license = get_string(o, "license", true, &bad);
        if (license)
                install(license);

        /* Validation: an upgraded license first, then the receipt. */
        bad = false;
        status = get_string(o, "status", true, &bad);
        receipt = status ? get_string(o, "receipt", true, &bad) : NULL;
        license = receipt ? get_string(o, "license", false, &bad) : NULL;
        if (receipt && !bad) {
                if (license)
                        install(license);
                install(receipt);
        }

        /* Deactivation needs only "status", checked above. */
        json_object_put(o);
        return 0;
}
