/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Documents this machine signs with its device key: offline activation and
 * validation requests, and deactivation proofs. */

#include <stdlib.h>
#include <unistd.h>

#include "bus-contract.h"
#include "license-key.h"
#include "events.h"
#include "hardware-id.h"
#include "log.h"
#include "operations.h"
#include "request.h"
#include "timeutil.h"

static void fill_machine(Context *c, MachineRequest *r, char nonce[static 33], char hostname[static 256]) {
        r->machine_id = c->machine_id;
        r->device_key = c->device_key_b64;
        r->nonce = nonce;
        r->created = context_now(c);
        if (gethostname(hostname, 255) == 0 && hostname[0]) {
                hostname[255] = 0;
                r->hostname = hostname;
        }
}

static int sign_request(Context *c, MachineRequest *rq, char **ret, sd_bus_error *error) {
        int r = machine_request_sign(rq, c->device_key, ret);
        if (r < 0) {
                log_error_errno(r, "Failed to sign a %s: %m", machine_request_kind(rq->type));
                return sd_bus_error_set_errnof(error, r, "Could not sign the request: %s", strerror(-r));
        }
        return 0;
}

/* A trial's hardware id, if licensed.service's ExecStartPre wrote one: the
 * server refuses a second trial of a machine by it too, after a reinstall
 * changed the machine id. A trial is still asked for without it (no DMI,
 * a container), only by the machine id alone. */
static const char *trial_hardware_id(Context *c, char out[static HARDWARE_ID_HEX_LEN + 1]) {
        int r = hardware_id_read(c->options.runtime_dir, out);
        if (r == -ENOENT)
                return NULL;
        if (r == -EBADMSG)
                log_warning("Ignoring %s/" HARDWARE_ID_FILE ": not %d lower-case hex digits and a newline.",
                            c->options.runtime_dir, HARDWARE_ID_HEX_LEN);
        else if (r < 0)
                log_warning_errno(r, "Ignoring %s/" HARDWARE_ID_FILE ": %m", c->options.runtime_dir);
        return r < 0 ? NULL : out;
}

int op_request_activation(Context *c, const char *product, const char *key, bool record_pending, char **ret,
                          char *ret_nonce, sd_bus_error *error) {
        char nonce[33], hostname[256], hardware_id[HARDWARE_ID_HEX_LEN + 1];
        /* No key: a trial, which names only the product and this machine. */
        MachineRequest rq = {.type = key ? MACHINE_REQUEST_ACTIVATION : MACHINE_REQUEST_TRIAL,
                             .product = (char *) product,
                             .key = (char *) key};
        int r;

        r = nonce_generate(nonce);
        if (r < 0)
                return sd_bus_error_set_errno(error, r);
        fill_machine(c, &rq, nonce, hostname);
        if (!key)
                rq.hardware_id = (char *) trial_hardware_id(c, hardware_id);
        r = sign_request(c, &rq, ret, error);
        if (r < 0)
                return r;
        if (ret_nonce)
                memcpy(ret_nonce, nonce, sizeof(nonce));
        if (!record_pending)
                return 0;
        /* From now on only a license answering this nonce is accepted. */
        r = store_save_pending(&c->store, product, nonce);
        if (r < 0) {
                free(TAKE_PTR(*ret));
                return sd_bus_error_setf(error, BUS_ERROR_STORAGE_FAILURE,
                                         "Could not record the request: %s. Nothing was changed.", strerror(-r));
        }
        log_info("Created offline %s %.8s... for %s.", machine_request_noun(rq.type), nonce, product);
        return 0;
}

int op_request_validation(Context *c, Entry *e, char **ret, sd_bus_error *error) {
        char nonce[33], hostname[256];
        MachineRequest rq = {
                .type = MACHINE_REQUEST_VALIDATION,
                .product = e->license.product,
                .license_id = e->id,
                .revision = e->license.revision,
        };
        LicenseState st = e->state;
        int r;

        r = nonce_generate(nonce);
        if (r < 0)
                return sd_bus_error_set_errno(error, r);
        fill_machine(c, &rq, nonce, hostname);
        r = sign_request(c, &rq, ret, error);
        if (r < 0)
                return r;
        memcpy(st.validation_nonce, nonce, sizeof(st.validation_nonce));
        r = store_save_state(&c->store, e->id, &st);
        if (r < 0) {
                free(TAKE_PTR(*ret));
                return sd_bus_error_setf(error, BUS_ERROR_STORAGE_FAILURE,
                                         "Could not record the request: %s. Nothing was changed.", strerror(-r));
        }
        e->state = st;
        log_debug("Created validation request %.8s... for license %s.", nonce, e->id);
        return 0;
}

int op_deactivate(Context *c, Entry *e, char **ret, sd_bus_error *error) {
        _cleanup_free_ char *proof = NULL, *id = NULL, *path = NULL, *product = NULL;
        _cleanup_free_ char **features = NULL;
        char nonce[33], hostname[256];
        MachineRequest rq = {
                .type = MACHINE_REQUEST_DEACTIVATION,
                .product = e->license.product,
                .license_id = e->id,
                .revision = e->license.revision,
        };
        size_t n_features = e->license.n_features;
        int r;

        r = nonce_generate(nonce);
        if (r < 0)
                return sd_bus_error_set_errno(error, r);
        fill_machine(c, &rq, nonce, hostname);
        r = sign_request(c, &rq, &proof, error);
        if (r < 0)
                return r;

        /* Keep a copy first: if the reply gets lost, the administrator still
         * finds the proof in the state directory. */
        r = store_save_proof(&c->store, e->id, proof);
        if (r < 0)
                return sd_bus_error_setf(error, BUS_ERROR_STORAGE_FAILURE,
                                         "Could not store the deactivation proof: %s. The license is still "
                                         "installed.",
                                         strerror(-r));
        r = store_remove_license(&c->store, e->id);
        if (r < 0)
                return sd_bus_error_setf(error, BUS_ERROR_STORAGE_FAILURE,
                                         "Could not remove the license: %s. It is still installed.", strerror(-r));

        id = strdup(e->id);
        path = entry_object_path(e);
        product = strdup(e->license.product);
        features = calloc(n_features + 1, sizeof(char *));
        if (!id || !path || !product || !features)
                return sd_bus_error_set_errno(error, -ENOMEM);
        for (size_t i = 0; i < n_features; i++)
                if (!(features[i] = strdup(e->license.features[i].name))) {
                        while (i > 0)
                                free(features[--i]);
                        return sd_bus_error_set_errno(error, -ENOMEM);
                }

        context_remove_entry(c, e);
        event_emit(EVENT_DEACTIVATED, LOG_NOTICE, &(EventFields) {.license_id = id, .product = product, .days_left = -1},
                   "Deactivated license %s of %s; the proof is kept in %s/deactivated/%s.proof.", id, product,
                   c->store.dir, id);
        (void) license_dbus_emit_removed(c, id, path);

        /* Tell listeners what each feature of the removed license is now. */
        for (size_t i = 0; i < n_features; i++) {
                Verdict v;
                context_check_feature(c, product, features[i], TIME_UNSET, false, &v);
                manager_dbus_emit_feature_changed(c, product, features[i], &v);
                free(features[i]);
        }
        context_reevaluate(c);
        context_state_changed(c);
        *ret = TAKE_PTR(proof);
        return 0;
}
