/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* license_parse_body() on any bytes. Fuzzed armored licenses almost never
 * get past the signature, so this target feeds the parser directly, and then
 * checks what the rest of the system relies on for every body it accepts:
 *
 *  - the canonical writer takes it and its output parses to the same text
 *    (issued documents always parse; licensed-vendor issue re-parses);
 *  - signed with the committed test key (tests/vectors/vendor.key), it goes
 *    through the full path license_verify_with_products() with a fixed
 *    product set: accepted exactly when it names the product that trusts the
 *    key, -EPERM for an installed product that trusts another key, -ENOENT
 *    for one that is not installed;
 *  - license_to_json() and evaluate() take it. */
#include "evaluate.h"
#include "fuzz.h"
#include "license-json.h"
#include "license.h"
#include "strutil.h"

static void check_evaluate(const License *l) {
        static const char machine_id[] = "0123456789abcdef0123456789abcdef";
        int64_t nows[] = {l->issued, l->issued + 1, l->not_before, l->not_after, l->not_after - 1,
                          l->maintenance_until, INT64_C(253402300799) /* 9999-12-31 */};
        LocalState st = {
                .machine_id = machine_id,
                .device_key = l->device_key,
                .installed = l->issued,
                .time_high_water = l->issued,
                .clock_tolerance = SEC_PER_HOUR,
                .validation_interval = l->validation_interval >= 0 ? l->validation_interval : SEC_PER_DAY,
                .grace_period = l->grace_period >= 0 ? l->grace_period : 14 * SEC_PER_DAY,
                .seats_in_use = 3,
                .want_seat = true,
        };
        Verdict v;

        for (size_t i = 0; i < ELEMENTSOF(nows); i++) {
                evaluate(l, &st, NULL, nows[i], TIME_UNSET, &v);
                fuzz_check(reason_to_string(v.reason), "evaluate gave reason %d", v.reason);
                fuzz_check(v.licensed == (v.reason == REASON_LICENSED || v.reason == REASON_GRACE),
                           "licensed=%d with reason %s", v.licensed, reason_to_string(v.reason));
                for (size_t k = 0; k < l->n_features && k < 4; k++) {
                        evaluate(l, &st, l->features[k].name, nows[i], l->maintenance_until + 1, &v);
                        fuzz_check(reason_to_string(v.reason), "evaluate gave reason %d", v.reason);
                }
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_(license_done) License l = LICENSE_INIT, l2 = LICENSE_INIT, lv = LICENSE_INIT,
                                        lk = LICENSE_INIT;
        _cleanup_free_ char *body = NULL, *body2 = NULL, *signed_text = NULL;
        const Product *product = NULL;
        size_t len, len2;
        CoreError err = {};
        json_object *o;
        int r;

        r = license_parse_body(data, size, &l, &err);
        if (r < 0) {
                fuzz_check_error(r, &err, "license_parse_body");
                return 0;
        }
        fuzz_check(l.id && l.product && l.licensee && l.type >= 0 && l.issued != TIME_UNSET,
                   "a required member is missing after a successful parse");

        r = license_format_body(&l, &body, &len);
        fuzz_check(r >= 0, "the canonical writer refuses an accepted license: %d", r);
        err = (CoreError) {};
        r = license_parse_body((const uint8_t *) body, len, &l2, &err);
        fuzz_check(r >= 0, "the canonical body does not parse: %s\n%s", core_error_message(&err, r), body);
        r = license_format_body(&l2, &body2, &len2);
        fuzz_check(r >= 0 && len == len2 && memcmp(body, body2, len) == 0, "canonical body is not a fixpoint");

        o = license_to_json(&l);
        fuzz_check(o, "license_to_json failed");
        fuzz_check(json_object_to_json_string(o), "JSON text");
        json_object_put(o);

        check_evaluate(&l);

        /* The input as it is (not the canonical text): the signature covers
         * these bytes. Armored, a body this large would exceed ARMOR_MAX_SIZE. */
        if (size > ARMOR_MAX_SIZE / 2)
                return 0;
        r = armor_sign(fuzz_vendor_private(), "LICENSE", data, size, &signed_text);
        fuzz_check(r >= 0, "armor_sign: %d", r);

        err = (CoreError) {};
        r = license_verify_with_key(signed_text, strlen(signed_text), fuzz_vendor_public(), &lk, &err);
        fuzz_check(r >= 0, "a signed accepted body fails license_verify_with_key: %s",
                   core_error_message(&err, r));

        err = (CoreError) {};
        r = license_verify_with_products(signed_text, strlen(signed_text), fuzz_products(), &lv, &product, &err);
        if (streq(l.product, FUZZ_PRODUCT)) {
                fuzz_check(r >= 0, "signed license for %s refused: %s", l.product, core_error_message(&err, r));
                fuzz_check(product && streq(product->id, FUZZ_PRODUCT), "wrong product returned");
                fuzz_check(streq(lv.id, l.id) && lv.revision == l.revision && lv.n_features == l.n_features,
                           "verified license differs from the parsed body");
        } else {
                fuzz_check(r == (streq(l.product, FUZZ_OTHER_PRODUCT) ? -EPERM : -ENOENT),
                           "license for %s: expected refusal, got %d (%s)", l.product, r,
                           core_error_message(&err, r));
                fuzz_check_error(r, &err, "license_verify_with_products");
        }
        return 0;
}
