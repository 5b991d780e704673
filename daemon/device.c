/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* This machine's identity as licenses see it: the per-application machine
 * id, and the device key created on first use that never leaves the state
 * directory. */

#include "bus-contract.h"
#include "context.h"
#include "crypto.h"
#include "key-file.h"
#include "log.h"

int context_load_device(Context *c) {
        _cleanup_free_ char *path = store_path(&c->store, NULL, "device.key", NULL);
        sd_id128_t id;
        CoreError err = {};
        int r;

        if (!path)
                return log_oom();

        r = sd_id128_get_machine_app_specific(LICENSED_APP_ID, &id);
        if (r < 0)
                return log_error_errno(r, "Failed to get the machine id (is /etc/machine-id set up?): %m");
        sd_id128_to_string(id, c->machine_id);

        r = ed25519_load_private(path, &c->device_key, &err);
        if (r == -ENOENT) {
                r = ed25519_generate(&c->device_key);
                if (r < 0)
                        return log_error_errno(r, "Failed to generate the device key: %m");
                r = ed25519_save_private(c->device_key, path, &err);
                if (r < 0)
                        return log_error_errno(r, "Failed to save the device key: %s", core_error_message(&err, r));
                log_info("Created the device key %s.", path);
        } else if (r < 0)
                /* Never replace a damaged device key silently: every license
                 * on this machine is bound to it. */
                return log_error_errno(r, "Failed to load the device key: %s", core_error_message(&err, r));

        r = ed25519_public_base64(c->device_key, &c->device_key_b64);
        if (r < 0)
                return log_error_errno(r, "Failed to encode the device key: %m");
        return 0;
}
