/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* machine_request_verify(): what licensed-vendor answer / receipt /
 * check-proof and licensed-server do with a document from a customer
 * machine. A machine document is self-signed, so its body is parsed before
 * the signature is checked: this target reaches the body parser through the
 * armor. Tried as "any type" and as each type in turn. */
#include "fuzz.h"
#include "request.h"
#include "strutil.h"

static void check_request(const MachineRequest *mr, MachineRequestType expected) {
        fuzz_check(mr->type >= 0 && mr->type < _MACHINE_REQUEST_TYPE_MAX, "type %d", mr->type);
        fuzz_check(expected < 0 || mr->type == expected, "asked for %d, got %d", expected, mr->type);
        fuzz_check(mr->product && mr->machine_id && mr->device_key && mr->nonce && mr->created != 0,
                   "a common field is missing after a successful verify");
        /* A trial names no key and no license: only the product and the machine. */
        fuzz_check(mr->type == MACHINE_REQUEST_ACTIVATION ? !!mr->key
                   : mr->type == MACHINE_REQUEST_TRIAL    ? !mr->key && !mr->license_id
                                                          : !!mr->license_id,
                   "a field of the type is missing after a successful verify");
        fuzz_check(!mr->hardware_id || mr->type == MACHINE_REQUEST_TRIAL, "a hardware id outside a trial");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        for (int t = _MACHINE_REQUEST_TYPE_INVALID; t < _MACHINE_REQUEST_TYPE_MAX; t++) {
                _cleanup_(machine_request_done) MachineRequest mr = MACHINE_REQUEST_INIT;
                CoreError err = {};
                int r;

                r = machine_request_verify((const char *) data, size, (MachineRequestType) t, &mr, &err);
                if (r < 0)
                        fuzz_check_error(r, &err, "machine_request_verify");
                else
                        check_request(&mr, (MachineRequestType) t);
        }
        return 0;
}
