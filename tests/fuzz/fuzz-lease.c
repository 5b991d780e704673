/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* core/lease.c on any bytes, taken as a body (fuzzed armor almost never
 * gets past a signature, so the body is signed here with the test key):
 *
 *  - as a FLOATING LEASE signed by the test key: lease_verify_with_key();
 *    an accepted lease signed again is the same text (one spelling), and
 *    goes through lease_check_chain() with a floating license of
 *    com.example.app bound to that key, at the lease's own times: every
 *    answer is 0 or one of the documented errors, and 0 only while the
 *    lease holds;
 *  - as a SITE REQUEST: site_request_verify() (self-signed: its body is
 *    parsed before the signature is checked); an accepted request has the
 *    common fields and exactly those its type has. */
#include "armor.h"
#include "fuzz.h"
#include "lease.h"
#include "timeutil.h"

#define SITE_ID "5f0c5f0c5f0c5f0c5f0c5f0c5f0c5f0c"

/* A floating license of FUZZ_PRODUCT, "cad" with 3 seats, bound to the
 * test key as its site key, made once. */
static const char *floating_license(void) {
        static char *text;
        _cleanup_(license_done) License l = LICENSE_INIT;

        if (text)
                return text;
        l.id = strdup("fuzz-float");
        l.revision = 1;
        l.product = strdup(FUZZ_PRODUCT);
        l.licensee = strdup("Fuzz");
        l.type = LICENSE_FLOATING;
        l.issued = 1;
        fuzz_check(license_add_feature(&l, "cad", TIME_UNSET, 3, NULL) == 0, "add feature");
        l.machine_id = strdup(SITE_ID);
        fuzz_check(ed25519_public_base64(fuzz_vendor_public(), &l.device_key) == 0, "site key");
        fuzz_check(license_sign(&l, fuzz_vendor_private(), &text) == 0, "sign the floating license");
        return text;
}

static void check_chain(const char *text, const Lease *ls) {
        const char *lic = floating_license();
        int64_t nows[] = {ls->granted - 1, ls->granted, ls->expires - 1, ls->expires, ls->borrowed_until};

        for (size_t i = 0; i < ELEMENTSOF(nows); i++) {
                CoreError err = {};
                int r = lease_check_chain(lic, strlen(lic), text, strlen(text), fuzz_products(), ls->machine_id,
                                          ls->device_key, nows[i], NULL, NULL, &err);
                if (r < 0) {
                        fuzz_check_error(r, &err, "lease_check_chain");
                        fuzz_check(r == -EXDEV || r == -ETIME || r == -EPERM, "lease_check_chain gave %d", r);
                } else
                        fuzz_check(nows[i] >= ls->granted &&
                                           nows[i] < (ls->borrowed_until != TIME_UNSET ? ls->borrowed_until
                                                                                       : ls->expires),
                                   "a lease accepted outside its time");
        }
}

static void check_lease(const uint8_t *data, size_t size) {
        _cleanup_free_ char *text = NULL, *again = NULL;
        _cleanup_(lease_done) Lease ls = LEASE_INIT;
        CoreError err = {};
        int r;

        if (armor_sign(fuzz_vendor_private(), LEASE_KIND, data, size, &text) < 0)
                return;
        r = lease_verify_with_key(text, strlen(text), fuzz_vendor_public(), &ls, &err);
        if (r < 0) {
                fuzz_check_error(r, &err, "lease_verify_with_key");
                return;
        }
        fuzz_check(lease_sign(&ls, fuzz_vendor_private(), &again) == 0, "an accepted lease cannot be signed");
        fuzz_check(streq(text, again), "an accepted lease has another canonical form");
        check_chain(text, &ls);
}

static void check_site_request(const uint8_t *data, size_t size) {
        _cleanup_free_ char *text = NULL;
        _cleanup_(site_request_done) SiteRequest sr = SITE_REQUEST_INIT;
        CoreError err = {};
        int r;

        if (armor_sign(fuzz_vendor_private(), SITE_REQUEST_KIND, data, size, &text) < 0)
                return;
        r = site_request_verify(text, strlen(text), &sr, &err);
        if (r < 0) {
                fuzz_check_error(r, &err, "site_request_verify");
                return;
        }
        fuzz_check(sr.type >= 0 && sr.type < _SITE_REQUEST_TYPE_MAX, "type %d", sr.type);
        fuzz_check(sr.site && sr.machine_id && sr.device_key && sr.nonce && sr.created != 0,
                   "a common field is missing");
        fuzz_check(!!sr.token == (sr.type == SITE_REQUEST_ENROL), "token and type disagree");
        fuzz_check(!!sr.lease == (sr.type == SITE_REQUEST_HEARTBEAT || sr.type == SITE_REQUEST_RETURN),
                   "lease and type disagree");
        fuzz_check(!!sr.feature == (sr.type == SITE_REQUEST_CHECKOUT || sr.type == SITE_REQUEST_BORROW),
                   "feature and type disagree");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        check_lease(data, size);
        check_site_request(data, size);
        return 0;
}
