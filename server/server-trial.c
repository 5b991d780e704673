/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* POST /v1/trial, and the offline page's trial: a machine without a key
 * gets its product's trial offer (an entitlement the vendor marked with
 * trial days, docs/vendor-guide.md) as a license of type trial bound to
 * it, ending trial_days after it started. Once per machine and product,
 * ever: the database keeps (product, machine id, hardware id), and the
 * machine id is what a wiped state directory keeps, unlike the device key,
 * the hardware id (if the machine has one) what a reinstall keeps, unlike
 * the machine id (docs/protocol.md, "Trials"). */

#include <assert.h>
#include <inttypes.h>

#include "license-key.h"
#include "request.h"
#include "server.h"
#include "timeutil.h"

int api_trial(Server *s, json_object *body, Reply *reply) {
        _cleanup_(machine_request_done) MachineRequest req = MACHINE_REQUEST_INIT;

        if (read_document(body, "request", MACHINE_REQUEST_TRIAL, &req, reply) < 0)
                return 0;
        return answer_trial(s, &req, reply);
}

int answer_trial(Server *s, const MachineRequest *req, Reply *reply) {
        _cleanup_(entitlement_done) Entitlement e = ENTITLEMENT_INIT;
        _cleanup_(activation_done) Activation a = {};
        char key[LICENSE_KEY_STRING_SIZE], license_id[LICENSE_ID_MAX + 1], end[RFC3339_MAX];
        CoreError err = {};
        int r;

        assert(req->type == MACHINE_REQUEST_TRIAL);
        r = storage_trial_offer(s->storage, req->product, key, &err);
        if (r == -ENOENT)
                return reply_error(reply, 404, "no-trial", "%s has no trial on this server; ask the vendor for a "
                                   "license key", req->product);
        if (r < 0)
                return reply_database(s, reply, "find the trial offer", r, &err);
        r = license_id_for(key, req->machine_id, req->device_key, license_id);
        if (r < 0)
                return reply_internal(reply, "derive a license id", r, NULL);

        r = storage_activate(s->storage, &ACTIVATION_CLAIM(req, key, license_id), &e, &a, &err);
        if (r < 0)
                return reply_database(s, reply, "store the trial", r, &err);
        if (r == STORAGE_NO_SEAT)
                return reply_error(reply, 409, "seat-limit",
                                   "the vendor's trials of %s are all taken (%" PRIu32 " machines); ask the "
                                   "vendor for a license key", req->product, e.seats);
        if (r > STORAGE_OK)
                return reply_storage_answer(reply, r, err.message);

        if (reply_license(s, &e, &a, req->nonce, reply) < 0)
                return 0;
        snprintf(reply->note, sizeof(reply->note), "product %s, machine %s: trial license %s until %s",
                 req->product, req->machine_id, license_id, time_format_rfc3339(e.license.not_after, end));
        server_event(SERVER_EVENT_ACTIVATED, LOG_INFO,
                     &(ServerEventFields){.license_id = license_id, .product = req->product,
                                          .machine_id = req->machine_id},
                     "trial license %s of %s started on machine %s, until %s", license_id, req->product,
                     req->machine_id, end);
        return 0;
}
