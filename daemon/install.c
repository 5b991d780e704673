/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Installing what the vendor sends: licenses and validation receipts. */

#include <stdlib.h>

#include "armor.h"
#include "bus-contract.h"
#include "events.h"
#include "log.h"
#include "operations.h"
#include "request.h"
#include "timeutil.h"

int bus_error_from_core(sd_bus_error *error, int r, const CoreError *err, const char *what) {
        const char *name;

        switch (r) {
        case -EKEYREJECTED: name = BUS_ERROR_BAD_SIGNATURE; break;
        case -ENOKEY:
        case -EPERM: name = BUS_ERROR_UNTRUSTED_KEY; break;
        case -ENOENT: name = BUS_ERROR_NO_SUCH_PRODUCT; break;
        case -ENOMEM: return sd_bus_error_set_errno(error, r);
        default: name = BUS_ERROR_INVALID_LICENSE; break;
        }
        return sd_bus_error_setf(error, name, "%s: %s", what, core_error_message(err, r));
}

static int storage_error(sd_bus_error *error, int r, const char *what) {
        log_error_errno(r, "Failed to %s: %m", what);
        return sd_bus_error_setf(error, BUS_ERROR_STORAGE_FAILURE,
                                 "Could not %s: %s. Nothing was changed; free space or fix the state "
                                 "directory and try again.",
                                 what, strerror(-r));
}

static int check_binding(Context *c, const License *l, sd_bus_error *error) {
        if (!l->machine_id)
                return sd_bus_error_setf(error, BUS_ERROR_NOT_BOUND,
                                         "License %s is not bound to a machine; activate it with its license key "
                                         "(licensectl activate KEY) instead of installing it.",
                                         l->id);
        if (!streq(l->machine_id, c->machine_id) || !streq(l->device_key, c->device_key_b64))
                return sd_bus_error_setf(error, BUS_ERROR_WRONG_MACHINE,
                                         "License %s is bound to another machine (%s) or device key; this machine "
                                         "is %s. Request a license for this machine.",
                                         l->id, l->machine_id, c->machine_id);
        return 0;
}

/* A license that answers a request must answer the latest one for its
 * product; an upgrade may repeat the nonce of the license it replaces. */
static int check_nonce(Context *c, const License *l, const Entry *existing, const char *expected_nonce,
                       bool *ret_consumes_pending, bool *ret_fresh, sd_bus_error *error) {
        char pending[33];
        bool have_pending = store_load_pending(&c->store, l->product, pending) >= 0;

        *ret_consumes_pending = false;
        *ret_fresh = false;
        if (!l->nonce)
                return 0;
        if (expected_nonce && streq(expected_nonce, l->nonce)) {
                *ret_fresh = true;
                return 0;
        }
        if (have_pending && streq(pending, l->nonce)) {
                *ret_consumes_pending = true;
                *ret_fresh = true;
                return 0;
        }
        if (existing && existing->license.nonce && streq(existing->license.nonce, l->nonce))
                return 0;
        /* An upgrade the server sends with its answer to our validation. */
        if (existing && existing->state.validation_nonce[0] && streq(existing->state.validation_nonce, l->nonce))
                return 0;
        if (have_pending)
                return sd_bus_error_setf(error, BUS_ERROR_NONCE_MISMATCH,
                                         "License %s answers an older activation request; a newer request "
                                         "(nonce %.8s...) replaced it. Send the newest request to your vendor.",
                                         l->id, pending);
        return sd_bus_error_setf(error, BUS_ERROR_NONCE_MISMATCH,
                                 "License %s answers an activation request that is no longer pending here "
                                 "(already used, or made on another machine). Request activation again.",
                                 l->id);
}

static int stale_revision(const License *l, const Entry *existing, sd_bus_error *error) {
        return sd_bus_error_setf(error, BUS_ERROR_STALE_REVISION,
                                 "License %s revision %u is not newer than the installed revision %u; "
                                 "nothing was changed.",
                                 l->id, l->revision, existing->license.revision);
}

static int install_license(Context *c, const char *text, const char *expected_nonce, Entry **ret,
                           sd_bus_error *error) {
        _cleanup_(license_done) License l = LICENSE_INIT;
        const Product *p = NULL;
        CoreError err = {};
        Entry *existing, *e;
        LicenseState st = {};
        bool consumes_pending, fresh, upgrade;
        int64_t now = context_now(c);
        int r;

        r = license_verify_with_products(text, strlen(text), &c->products, &l, &p, &err);
        if (r < 0)
                return bus_error_from_core(error, r, &err, "The license was not installed");
        r = check_binding(c, &l, error);
        if (r < 0)
                return r;

        existing = context_find_entry(c, l.id);
        if (existing) {
                if (!streq(existing->license.product, l.product))
                        return sd_bus_error_setf(error, BUS_ERROR_INVALID_LICENSE,
                                                 "License id %s is already installed for product %s.", l.id,
                                                 existing->license.product);
                if (l.revision == existing->license.revision && entry_text_is(existing, text)) {
                        *ret = existing; /* installing the same file twice is fine */
                        return 0;
                }
        }
        /* An older revision is stale whatever request it answered: say
         * that, not that its request is no longer pending. */
        if (existing && l.revision < existing->license.revision)
                return stale_revision(&l, existing, error);
        r = check_nonce(c, &l, existing, expected_nonce, &consumes_pending, &fresh, error);
        if (r < 0)
                return r;
        /* A higher revision upgrades; the same revision replaces only when it
         * answers this machine's current request (activating again). */
        if (existing && l.revision == existing->license.revision && !fresh)
                return stale_revision(&l, existing, error);

        /* The vendor's signature at issue time is as good as a validation
         * then; re-installing an old file cannot move that back. */
        upgrade = existing != NULL;
        if (upgrade)
                st = existing->state;
        else
                st.installed = now;
        if (l.issued <= now && l.issued > st.last_validation)
                st.last_validation = l.issued;

        r = store_save_license(&c->store, l.id, text, &st);
        if (r < 0)
                return storage_error(error, r, "store the license");
        if (consumes_pending) {
                r = store_remove_pending(&c->store, l.product);
                if (r < 0)
                        log_warning_errno(r, "Failed to remove the answered activation request: %m");
        }

        r = context_add_entry(c, l.id, text, &l, p, &st, &e);
        if (r < 0)
                return sd_bus_error_set_errno(error, r);

        event_emit(EVENT_INSTALLED, LOG_NOTICE,
                   &(EventFields) {.license_id = e->id, .product = e->license.product, .days_left = -1},
                   "%s license %s (revision %u) for %s, licensee %s.", upgrade ? "Upgraded" : "Installed", e->id,
                   e->license.revision, e->license.product, e->license.licensee);
        (void) license_dbus_emit_added(c, e);
        context_reevaluate(c);
        context_state_changed(c);
        *ret = e;
        return 0;
}

static int install_receipt(Context *c, const char *text, Entry **ret, sd_bus_error *error) {
        _cleanup_(validation_receipt_done) ValidationReceipt rc = VALIDATION_RECEIPT_INIT;
        CoreError err = {};
        LicenseState st;
        Entry *e;
        int64_t now = context_now(c);
        int r;

        r = validation_receipt_verify_with_products(text, strlen(text), &c->products, &rc, &err);
        if (r < 0)
                return bus_error_from_core(error, r, &err, "The validation receipt was not accepted");
        e = context_find_entry(c, rc.license_id);
        if (!e || !streq(e->license.product, rc.product))
                return sd_bus_error_setf(error, BUS_ERROR_NO_SUCH_LICENSE,
                                         "The receipt is for license %s of %s, which is not installed here.",
                                         rc.license_id, rc.product);
        if (!streq(rc.machine_id, c->machine_id))
                return sd_bus_error_setf(error, BUS_ERROR_WRONG_MACHINE,
                                         "The receipt is for machine %s; this machine is %s.", rc.machine_id,
                                         c->machine_id);
        if (!e->state.validation_nonce[0] || !streq(rc.nonce, e->state.validation_nonce))
                return sd_bus_error_setf(error, BUS_ERROR_NONCE_MISMATCH,
                                         "The receipt answers a validation request that is not the latest one "
                                         "for license %s. Request offline validation again and send that.",
                                         e->id);

        st = e->state;
        st.validation_nonce[0] = 0;
        st.last_error = NULL; /* e->state's is freed once this state is stored */
        st.last_attempt = now;
        if (rc.status == RECEIPT_REVOKED)
                st.revoked = true;
        else {
                /* The vendor's word now; but never a validation in our future. */
                int64_t when = rc.validated < now ? rc.validated : now;
                st.revoked = false;
                if (when > st.last_validation)
                        st.last_validation = when;
        }
        r = store_save_state(&c->store, e->id, &st);
        if (r < 0)
                return storage_error(error, r, "store the validation result");
        free(e->state.last_error);
        e->state = st;
        if (rc.status == RECEIPT_VALID)
                event_emit(EVENT_VALIDATION_OK, LOG_INFO,
                           &(EventFields) {.license_id = e->id, .product = e->license.product, .days_left = -1},
                           "License %s of %s was validated by the vendor.", e->id, e->license.product);
        /* A revocation is announced by the re-evaluation below, as a status change. */
        (void) license_dbus_emit_changed(c, e);
        context_reevaluate(c);
        context_state_changed(c);
        *ret = e;
        return 0;
}

int op_install(Context *c, const char *text, const char *expected_nonce, Entry **ret, sd_bus_error *error) {
        _cleanup_(armor_done) Armor a = {};
        _cleanup_free_ char *canonical = NULL;
        CoreError err = {};
        int r;

        r = armor_decode(text, strlen(text), NULL, &a, &err);
        if (r < 0)
                return sd_bus_error_setf(error, BUS_ERROR_INVALID_LICENSE, "Not a license or receipt: %s",
                                         core_error_message(&err, r));
        /* Keep the block alone, in canonical layout, whatever mail or CRLF
         * came around it: that is what is stored and exported. */
        r = armor_encode(a.kind, a.key_id, a.signature, a.body, a.body_len, &canonical);
        if (r < 0)
                return sd_bus_error_set_errno(error, r);
        if (streq(a.kind, "LICENSE"))
                return install_license(c, canonical, expected_nonce, ret, error);
        if (streq(a.kind, "VALIDATION RECEIPT"))
                return install_receipt(c, canonical, ret, error);
        return sd_bus_error_setf(error, BUS_ERROR_INVALID_LICENSE,
                                 "This is a %s; only a LICENSE or a VALIDATION RECEIPT can be installed here "
                                 "(requests and proofs go to the vendor).",
                                 a.kind);
}
