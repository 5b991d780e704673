/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* org.licensed.License1.Manager on /org/licensed/License1. Each changing
 * method: parse -> validate -> authorize (polkit.c) -> mutate
 * (operations.h) -> emit -> reply. */

#include <stdarg.h>
#include <stdlib.h>

#include "build-info.h"
#include "bus-contract.h"
#include "license-key.h"
#include "log.h"
#include "online.h"
#include "operations.h"
#include "polkit.h"
#include "seats.h"
#include "site-client.h"
#include "strutil.h"
#include "timeutil.h"

static int reply_bus_error(sd_bus_message *m, int r, sd_bus_error *error) {
        if (sd_bus_error_is_set(error))
                return sd_bus_reply_method_error(m, error);
        return sd_bus_reply_method_errno(m, r, NULL);
}

static int validate_product_arg(Context *c, const char *product, bool must_exist, sd_bus_error *error) {
        if (!product_id_is_valid(product))
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
                                         "'%.64s' is not a product id (a-z 0-9 . _ -, up to 128 characters).",
                                         product);
        if (must_exist && !product_set_find(&c->products, product))
                return sd_bus_error_setf(error, BUS_ERROR_NO_SUCH_PRODUCT,
                                         "Product %s is not installed on this machine (no products.d file for it).",
                                         product);
        return 0;
}

static int reply_object_path(sd_bus_message *m, const Entry *e) {
        _cleanup_free_ char *path = entry_object_path(e);

        return path ? sd_bus_reply_method_return(m, "o", path) : -ENOMEM;
}

static int find_entry_arg(Context *c, const char *id, Entry **ret, sd_bus_error *error) {
        if (!identifier_is_valid(id, LICENSE_ID_MAX))
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "'%.64s' is not a license id.", id);
        *ret = context_find_entry(c, id);
        if (!*ret)
                return sd_bus_error_setf(error, BUS_ERROR_NO_SUCH_LICENSE,
                                         "No license %s is installed; 'licensectl list' shows what is.", id);
        return 0;
}

/* Read-only methods ----------------------------------------------------------- */

static int method_check_feature(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Context *c = userdata;
        const char *product, *feature;
        uint64_t release_usec;
        Verdict v;
        int r;

        r = sd_bus_message_read(m, "sst", &product, &feature, &release_usec);
        if (r < 0)
                return r;
        r = validate_product_arg(c, product, false, error);
        if (r < 0)
                return r;
        if (!license_name_is_valid(feature))
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
                                         "'%.64s' is not a feature name (a-z 0-9 . _ -, up to 64 characters).",
                                         feature);
        /* Flat in the number of the product's licenses (verdicts.c). */
        verdict_cache_check(c, product, feature, context_now(c), usec_to_sec(release_usec), &v);
        /* A feature no local license grants may float: the leases held on
         * this machine answer it (leases.c). */
        if (!v.licensed) {
                Verdict fv;
                if (leases_check_feature(c, product, feature, context_now(c), &fv))
                        v = fv;
        }
        /* "Not installed" is what every unlicensed probe gets; a denial by an
         * installed license is worth the administrator's attention. */
        if (!v.licensed && v.reason != REASON_NOT_INSTALLED)
                context_note_denial(c, product, feature, v.reason);
        return sd_bus_reply_method_return(m, "bstt", v.licensed, reason_to_string(v.reason),
                                          usec_from_sec(v.expires), usec_from_sec(v.grace_end));
}

static int validate_feature_arg(const char *feature, sd_bus_error *error) {
        if (!license_name_is_valid(feature))
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
                                         "'%.64s' is not a feature name (a-z 0-9 . _ -, up to 64 characters).",
                                         feature);
        return 0;
}

static int read_product_feature(sd_bus_message *m, Context *c, const char **product, const char **feature,
                                sd_bus_error *error) {
        int r = sd_bus_message_read(m, "ss", product, feature);
        if (r < 0)
                return r;
        r = validate_product_arg(c, *product, false, error);
        if (r < 0)
                return r;
        return validate_feature_arg(*feature, error);
}

/* A lease id as the site makes them; quoted at most in part, whatever was sent. */
static int validate_lease_id_arg(const char *id, sd_bus_error *error) {
        if (strlen(id) != LEASE_ID_HEX_LEN || strspn(id, "0123456789abcdef") != LEASE_ID_HEX_LEN)
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
                                         "'%.64s' is not a lease id (%d lower-case hex digits, as 'licensectl site "
                                         "status' shows them).",
                                         id, LEASE_ID_HEX_LEN);
        return 0;
}

static int method_check_out(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Context *c = userdata;
        const char *product, *feature;
        Verdict v;
        int r;

        r = read_product_feature(m, c, &product, &feature, error);
        if (r < 0)
                return r;
        /* A seat lives in this process and goes with it, and this process
         * is about to exit on idle: the caller asks again and reaches the
         * next licensed (liblicensed does so by itself). */
        if (c->exiting)
                return sd_bus_error_setf(error, BUS_ERROR_EXITING,
                                         "licensed is exiting after being idle; call again, and the next instance "
                                         "answers.");
        /* A holder asking again keeps its seat, whatever the count. */
        context_check_feature(c, product, feature, TIME_UNSET, !seats_held_by(c, m, product, feature), &v);
        /* Not licensed here, but floating at the joined site: a lease,
         * answered once the site has (leases.c). */
        if (!v.licensed && site_client_find_license(c, product, feature))
                return leases_check_out(c, m, product, feature);
        if (v.licensed && v.limit > 0) {
                r = seats_take(c, m, product, feature);
                if (r < 0)
                        return r;
        }
        if (!v.licensed && v.reason != REASON_NOT_INSTALLED)
                context_note_denial(c, product, feature, v.reason);
        return sd_bus_reply_method_return(m, "bsuu", v.licensed, reason_to_string(v.reason),
                                          (uint32_t) seats_in_use(c, product, feature), v.limit);
}

static int method_return(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Context *c = userdata;
        const char *product, *feature;
        int r;

        r = read_product_feature(m, c, &product, &feature, error);
        if (r < 0)
                return r;
        if (!seats_return(c, m, product, feature) && leases_return(c, m, product, feature) == 0)
                return sd_bus_error_setf(error, BUS_ERROR_NO_SEAT, "This client holds no seat of %s/%s.", product,
                                         feature);
        return sd_bus_reply_method_return(m, NULL);
}

static int method_list_licenses(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        Context *c = userdata;
        int64_t now = context_now(c);
        int r;

        r = sd_bus_message_new_method_return(m, &reply);
        if (r < 0)
                return r;
        r = sd_bus_message_open_container(reply, 'a', "(ssssto)");
        if (r < 0)
                return r;
        for (size_t i = 0; i < c->n_entries; i++) {
                Entry *e = c->entries[i];
                _cleanup_free_ char *path = entry_object_path(e);

                if (!path)
                        return -ENOMEM;
                r = sd_bus_message_append(reply, "(ssssto)", e->id, e->license.product, e->license.licensee,
                                          reason_to_string(entry_status(c, e, now)),
                                          usec_from_sec(e->license.not_after), path);
                if (r < 0)
                        return r;
        }
        r = sd_bus_message_close_container(reply);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

static int method_list_products(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        Context *c = userdata;
        int r;

        r = sd_bus_message_new_method_return(m, &reply);
        if (r < 0)
                return r;
        r = sd_bus_message_open_container(reply, 'a', "(ssss)");
        if (r < 0)
                return r;
        for (size_t i = 0; i < c->products.n_products; i++) {
                const Product *p = &c->products.products[i];
                r = sd_bus_message_append(reply, "(ssss)", p->id, p->name, p->server_url ?: "",
                                          p->offline_url ?: "");
                if (r < 0)
                        return r;
        }
        r = sd_bus_message_close_container(reply);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

static int method_get_license(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Context *c = userdata;
        const char *id;
        Entry *e;
        int r;

        r = sd_bus_message_read(m, "s", &id);
        if (r < 0)
                return r;
        r = find_entry_arg(c, id, &e, error);
        if (r < 0)
                return r;
        return reply_object_path(m, e);
}

static int method_export(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Context *c = userdata;
        const char *id;
        _cleanup_free_ char *text = NULL;
        Entry *e;
        int r;

        r = sd_bus_message_read(m, "s", &id);
        if (r < 0)
                return r;
        r = find_entry_arg(c, id, &e, error);
        if (r < 0)
                return r;
        r = entry_read_text(c, e, &text);
        if (r < 0)
                return sd_bus_error_setf(error, BUS_ERROR_STORAGE_FAILURE,
                                         "The stored file of license %s cannot be read back as installed "
                                         "(%s); install the license again.",
                                         id, r == -EBADMSG ? "it changed on disk" : strerror(-r));
        return sd_bus_reply_method_return(m, "s", text);
}

/* Changing methods -------------------------------------------------------------
 * Each is split in two: the handler parses and validates, then the
 * continuation (called directly for root, or after polkit answers) re-reads
 * the arguments, which were validated already, and does the work. */

/* A continuation's arguments again (the leading ones, of types), which
 * the handler validated before authorization. */
static int reread_args(sd_bus_message *m, const char *types, ...) {
        va_list ap;
        int r;

        r = sd_bus_message_rewind(m, true);
        if (r < 0)
                return r;
        va_start(ap, types);
        r = sd_bus_message_readv(m, types, ap);
        va_end(ap);
        return r;
}

static int activate_continue(Context *c, sd_bus_message *m) {
        char canonical[LICENSE_KEY_STRING_SIZE];
        const char *product, *key;
        int r;

        r = reread_args(m, "ss", &product, &key);
        if (r < 0 || license_key_normalize(key, canonical, NULL) < 0)
                return sd_bus_reply_method_errno(m, r < 0 ? r : -EINVAL, NULL);
        return online_activate(c, m, product, canonical);
}

static int read_key_arg(const char *key, char out[static LICENSE_KEY_STRING_SIZE], sd_bus_error *error) {
        CoreError err = {};
        int r = license_key_normalize(key, out, &err);
        if (r < 0)
                return sd_bus_error_setf(error, BUS_ERROR_INVALID_KEY, "The license key is not valid: %s.",
                                         core_error_message(&err, r));
        return 0;
}

/* Activate and RequestOfflineActivation take the same arguments and the
 * same polkit action; they differ in what happens once authorized. */
static int activation_method(sd_bus_message *m, Context *c, AuthorizedFunc cont, sd_bus_error *error) {
        const char *product, *key;
        char canonical[LICENSE_KEY_STRING_SIZE];
        int interactive, r;

        r = sd_bus_message_read(m, "ssb", &product, &key, &interactive);
        if (r < 0)
                return r;
        r = validate_product_arg(c, product, true, error);
        if (r < 0)
                return r;
        r = read_key_arg(key, canonical, error);
        if (r < 0)
                return r;
        return polkit_authorize(c, m, "activate", interactive, cont);
}

static int method_activate(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        return activation_method(m, userdata, activate_continue, error);
}

/* StartTrial and RequestOfflineTrial: Activate and RequestOfflineActivation
 * without a key (the server knows the product's trial), under the same
 * polkit action. */
static int start_trial_continue(Context *c, sd_bus_message *m) {
        const char *product;
        int r;

        r = reread_args(m, "s", &product);
        if (r < 0)
                return sd_bus_reply_method_errno(m, r, NULL);
        return online_activate(c, m, product, NULL);
}

static int request_trial_continue(Context *c, sd_bus_message *m) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_free_ char *request = NULL;
        const char *product;
        const Product *p;
        int r;

        r = reread_args(m, "s", &product);
        if (r < 0)
                return sd_bus_reply_method_errno(m, r, NULL);
        r = op_request_activation(c, product, NULL, true, &request, NULL, &error);
        if (r < 0)
                return reply_bus_error(m, r, &error);
        p = product_set_find(&c->products, product);
        return sd_bus_reply_method_return(m, "ss", request, p && p->offline_url ? p->offline_url : "");
}

static int trial_method(sd_bus_message *m, Context *c, AuthorizedFunc cont, sd_bus_error *error) {
        const char *product;
        int interactive, r;

        r = sd_bus_message_read(m, "sb", &product, &interactive);
        if (r < 0)
                return r;
        r = validate_product_arg(c, product, true, error);
        if (r < 0)
                return r;
        return polkit_authorize(c, m, "activate", interactive, cont);
}

static int method_start_trial(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        return trial_method(m, userdata, start_trial_continue, error);
}

static int method_request_offline_trial(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        return trial_method(m, userdata, request_trial_continue, error);
}

static int request_activation_continue(Context *c, sd_bus_message *m) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_free_ char *request = NULL;
        char canonical[LICENSE_KEY_STRING_SIZE];
        const char *product, *key;
        const Product *p;
        int r;

        r = reread_args(m, "ss", &product, &key);
        if (r < 0)
                return sd_bus_reply_method_errno(m, r, NULL);
        r = read_key_arg(key, canonical, &error);
        if (r >= 0)
                r = op_request_activation(c, product, canonical, true, &request, NULL, &error);
        if (r < 0)
                return reply_bus_error(m, r, &error);
        p = product_set_find(&c->products, product);
        return sd_bus_reply_method_return(m, "ss", request, p && p->offline_url ? p->offline_url : "");
}

static int method_request_offline_activation(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        return activation_method(m, userdata, request_activation_continue, error);
}

static int install_continue(Context *c, sd_bus_message *m) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        const char *text;
        Entry *e;
        int r;

        r = reread_args(m, "s", &text);
        if (r < 0)
                return sd_bus_reply_method_errno(m, r, NULL);
        r = op_install(c, text, NULL, &e, &error);
        if (r < 0)
                return reply_bus_error(m, r, &error);
        return reply_object_path(m, e);
}

static int method_install_license(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Context *c = userdata;
        const char *text;
        int interactive, r;

        r = sd_bus_message_read(m, "sb", &text, &interactive);
        if (r < 0)
                return r;
        if (strlen(text) > ARMOR_MAX_SIZE)
                return sd_bus_error_setf(error, BUS_ERROR_INVALID_LICENSE,
                                         "The text is %zu bytes; no license is larger than %d.", strlen(text),
                                         ARMOR_MAX_SIZE);
        return polkit_authorize(c, m, "install", interactive, install_continue);
}

static int deactivate_continue(Context *c, sd_bus_message *m) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_free_ char *proof = NULL;
        const char *id;
        int offline;
        Entry *e;
        int r;

        r = reread_args(m, "sb", &id, &offline);
        if (r < 0)
                return sd_bus_reply_method_errno(m, r, NULL);
        /* Looked up again: it may have gone while polkit was asking. */
        r = find_entry_arg(c, id, &e, &error);
        if (r < 0)
                return reply_bus_error(m, r, &error);
        if (!offline)
                return online_deactivate(c, m, e);
        r = op_deactivate(c, e, &proof, &error);
        if (r < 0)
                return reply_bus_error(m, r, &error);
        return sd_bus_reply_method_return(m, "s", proof);
}

static int method_deactivate(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Context *c = userdata;
        const char *id;
        int offline, interactive, r;
        Entry *e;

        r = sd_bus_message_read(m, "sbb", &id, &offline, &interactive);
        if (r < 0)
                return r;
        r = find_entry_arg(c, id, &e, error);
        if (r < 0)
                return r;
        return polkit_authorize(c, m, "deactivate", interactive, deactivate_continue);
}

static int validate_continue(Context *c, sd_bus_message *m) {
        const char *id;
        int r;

        r = reread_args(m, "s", &id);
        if (r < 0)
                return sd_bus_reply_method_errno(m, r, NULL);
        return online_validate(c, m, id);
}

static int method_validate(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Context *c = userdata;
        const char *id;
        int interactive, r;
        Entry *e;

        r = sd_bus_message_read(m, "sb", &id, &interactive);
        if (r < 0)
                return r;
        if (!isempty(id)) {
                r = find_entry_arg(c, id, &e, error);
                if (r < 0)
                        return r;
        }
        return polkit_authorize(c, m, "validate", interactive, validate_continue);
}

static int request_validation_continue(Context *c, sd_bus_message *m) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_free_ char *request = NULL;
        const char *id;
        Entry *e;
        int r;

        r = reread_args(m, "s", &id);
        if (r < 0)
                return sd_bus_reply_method_errno(m, r, NULL);
        r = find_entry_arg(c, id, &e, &error);
        if (r >= 0)
                r = op_request_validation(c, e, &request, &error);
        if (r < 0)
                return reply_bus_error(m, r, &error);
        return sd_bus_reply_method_return(m, "s", request);
}

static int method_request_offline_validation(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Context *c = userdata;
        const char *id;
        int interactive, r;
        Entry *e;

        r = sd_bus_message_read(m, "sb", &id, &interactive);
        if (r < 0)
                return r;
        r = find_entry_arg(c, id, &e, error);
        if (r < 0)
                return r;
        return polkit_authorize(c, m, "validate", interactive, request_validation_continue);
}

/* Floating licenses: the site and its leases (site-client.c, leases.c) ----------- */

static int join_site_continue(Context *c, sd_bus_message *m) {
        const char *url, *token, *fingerprint;
        int r;

        r = reread_args(m, "sss", &url, &token, &fingerprint);
        if (r < 0)
                return sd_bus_reply_method_errno(m, r, NULL);
        return site_client_join(c, m, url, token, fingerprint);
}

static int method_join_site(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        const char *url, *token, *fingerprint;
        int interactive, r;

        r = sd_bus_message_read(m, "sssb", &url, &token, &fingerprint, &interactive);
        if (r < 0)
                return r;
        if (!isempty(fingerprint) && isempty(token))
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
                                         "Joining needs a join token: 'licensed-site token' on the site server "
                                         "makes one.");
        return polkit_authorize(userdata, m, "site", interactive, join_site_continue);
}

static int leave_site_continue(Context *c, sd_bus_message *m) {
        return site_client_leave(c, m);
}

static int method_leave_site(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        int interactive, r;

        r = sd_bus_message_read(m, "b", &interactive);
        if (r < 0)
                return r;
        return polkit_authorize(userdata, m, "site", interactive, leave_site_continue);
}

static int borrow_continue(Context *c, sd_bus_message *m) {
        const char *product, *feature;
        uint64_t until;
        int r;

        r = reread_args(m, "sst", &product, &feature, &until);
        if (r < 0)
                return sd_bus_reply_method_errno(m, r, NULL);
        return leases_borrow(c, m, product, feature, usec_to_sec(until));
}

static int method_borrow(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Context *c = userdata;
        const char *product, *feature;
        uint64_t until;
        int interactive, r;

        r = read_product_feature(m, c, &product, &feature, error);
        if (r < 0)
                return r;
        r = sd_bus_message_read(m, "tb", &until, &interactive);
        if (r < 0)
                return r;
        if (usec_to_sec(until) <= context_now(c))
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "A lease is borrowed until a time to come.");
        return polkit_authorize(c, m, "borrow", interactive, borrow_continue);
}

static int return_borrowed_continue(Context *c, sd_bus_message *m) {
        const char *what, *feature;
        int r;

        r = reread_args(m, "ss", &what, &feature);
        if (r < 0)
                return sd_bus_reply_method_errno(m, r, NULL);
        return leases_return_borrowed(c, m, what, feature);
}

static int method_return_borrowed(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        const char *what, *feature;
        int interactive, r;

        r = sd_bus_message_read(m, "ssb", &what, &feature, &interactive);
        if (r < 0)
                return r;
        if (isempty(what))
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Name a product and feature, or a lease id.");
        /* Checked as every other method checks its names, before polkit. */
        r = isempty(feature) ? validate_lease_id_arg(what, error) : validate_product_arg(userdata, what, false, error);
        if (r >= 0 && !isempty(feature))
                r = validate_feature_arg(feature, error);
        if (r < 0)
                return r;
        return polkit_authorize(userdata, m, "borrow", interactive, return_borrowed_continue);
}

static int method_site_status(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        return leases_site_status(userdata, m);
}

static int release_site_lease_continue(Context *c, sd_bus_message *m) {
        const char *id;
        int r;

        r = reread_args(m, "s", &id);
        if (r < 0)
                return sd_bus_reply_method_errno(m, r, NULL);
        return leases_release_site_lease(c, m, id);
}

static int method_release_site_lease(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        const char *id;
        int interactive, r;

        r = sd_bus_message_read(m, "sb", &id, &interactive);
        if (r < 0)
                return r;
        r = validate_lease_id_arg(id, error);
        if (r < 0)
                return r;
        return polkit_authorize(userdata, m, "site", interactive, release_site_lease_continue);
}

/* Properties ------------------------------------------------------------------- */

static int property_get_string(sd_bus *bus, const char *path, const char *interface, const char *property,
                               sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Context *c = userdata;
        _cleanup_free_ char *summary = NULL;

        if (streq(property, "Version"))
                return sd_bus_message_append(reply, "s", PACKAGE_VERSION);
        if (streq(property, "MachineId"))
                return sd_bus_message_append(reply, "s", c->machine_id);
        if (streq(property, "DeviceKey"))
                return sd_bus_message_append(reply, "s", c->device_key_b64);
        if (streq(property, "State"))
                return sd_bus_message_append(reply, "s", context_state(c));
        if (context_summary(c, &summary) < 0)
                return -ENOMEM;
        return sd_bus_message_append(reply, "s", summary);
}

static int property_get_license_count(sd_bus *bus, const char *path, const char *interface,
                                      const char *property, sd_bus_message *reply, void *userdata,
                                      sd_bus_error *error) {
        Context *c = userdata;
        return sd_bus_message_append(reply, "u", (uint32_t) c->n_entries);
}

static int property_get_next_validation(sd_bus *bus, const char *path, const char *interface,
                                        const char *property, sd_bus_message *reply, void *userdata,
                                        sd_bus_error *error) {
        return sd_bus_message_append(reply, "t", usec_from_sec(context_next_validation(userdata)));
}

void manager_dbus_emit_feature_changed(Context *c, const char *product, const char *feature, const Verdict *v) {
        int r = sd_bus_emit_signal(c->bus, LICENSED_MANAGER_PATH, LICENSED_MANAGER_INTERFACE, "FeatureChanged",
                                   "ssbs", product, feature, v->licensed, reason_to_string(v->reason));
        if (r < 0)
                log_warning_errno(r, "Failed to emit FeatureChanged: %m");
}

void manager_dbus_emit_state_changed(Context *c) {
        int r = sd_bus_emit_properties_changed(c->bus, LICENSED_MANAGER_PATH, LICENSED_MANAGER_INTERFACE, "State",
                                               "Summary", "LicenseCount", "NextValidation", NULL);
        if (r < 0)
                log_warning_errno(r, "Failed to emit PropertiesChanged: %m");
}

static const sd_bus_vtable manager_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY("Version", "s", property_get_string, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("MachineId", "s", property_get_string, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("DeviceKey", "s", property_get_string, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("State", "s", property_get_string, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("Summary", "s", property_get_string, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("LicenseCount", "u", property_get_license_count, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("NextValidation", "t", property_get_next_validation, 0,
                        SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_METHOD_WITH_NAMES("CheckFeature", "sst", SD_BUS_PARAM(product) SD_BUS_PARAM(feature)
                                 SD_BUS_PARAM(release_date), "bstt", SD_BUS_PARAM(licensed) SD_BUS_PARAM(reason)
                                 SD_BUS_PARAM(expires) SD_BUS_PARAM(grace_end), method_check_feature,
                                 SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_NAMES("CheckOut", "ss", SD_BUS_PARAM(product) SD_BUS_PARAM(feature), "bsuu",
                                 SD_BUS_PARAM(granted) SD_BUS_PARAM(reason) SD_BUS_PARAM(in_use) SD_BUS_PARAM(limit),
                                 method_check_out, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_NAMES("Return", "ss", SD_BUS_PARAM(product) SD_BUS_PARAM(feature), NULL, ,
                                 method_return, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_NAMES("ListLicenses", NULL, , "a(ssssto)", SD_BUS_PARAM(licenses), method_list_licenses,
                                 SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_NAMES("ListProducts", NULL, , "a(ssss)", SD_BUS_PARAM(products), method_list_products,
                                 SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_NAMES("GetLicense", "s", SD_BUS_PARAM(id), "o", SD_BUS_PARAM(license),
                                 method_get_license, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_NAMES("Activate", "ssb", SD_BUS_PARAM(product) SD_BUS_PARAM(key)
                                 SD_BUS_PARAM(interactive), "o", SD_BUS_PARAM(license), method_activate,
                                 SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_NAMES("RequestOfflineActivation", "ssb", SD_BUS_PARAM(product) SD_BUS_PARAM(key)
                                 SD_BUS_PARAM(interactive), "ss", SD_BUS_PARAM(request) SD_BUS_PARAM(url),
                                 method_request_offline_activation, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_NAMES("StartTrial", "sb", SD_BUS_PARAM(product) SD_BUS_PARAM(interactive), "o",
                                 SD_BUS_PARAM(license), method_start_trial, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_NAMES("RequestOfflineTrial", "sb", SD_BUS_PARAM(product) SD_BUS_PARAM(interactive),
                                 "ss", SD_BUS_PARAM(request) SD_BUS_PARAM(url), method_request_offline_trial,
                                 SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_NAMES("InstallLicense", "sb", SD_BUS_PARAM(text) SD_BUS_PARAM(interactive), "o",
                                 SD_BUS_PARAM(license), method_install_license, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_NAMES("Deactivate", "sbb", SD_BUS_PARAM(id) SD_BUS_PARAM(offline)
                                 SD_BUS_PARAM(interactive), "s", SD_BUS_PARAM(proof), method_deactivate,
                                 SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_NAMES("Validate", "sb", SD_BUS_PARAM(id) SD_BUS_PARAM(interactive), "a(sss)",
                                 SD_BUS_PARAM(results), method_validate, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_NAMES("RequestOfflineValidation", "sb", SD_BUS_PARAM(id) SD_BUS_PARAM(interactive),
                                 "s", SD_BUS_PARAM(request), method_request_offline_validation,
                                 SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_NAMES("Export", "s", SD_BUS_PARAM(id), "s", SD_BUS_PARAM(text), method_export,
                                 SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_NAMES("JoinSite", "sssb", SD_BUS_PARAM(url) SD_BUS_PARAM(token) SD_BUS_PARAM(fingerprint)
                                 SD_BUS_PARAM(interactive), "ss", SD_BUS_PARAM(site) SD_BUS_PARAM(fingerprint),
                                 method_join_site, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_NAMES("LeaveSite", "b", SD_BUS_PARAM(interactive), "s", SD_BUS_PARAM(site),
                                 method_leave_site, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_NAMES("SiteStatus", NULL, , "sssa(ssuu)a(sssstb)ba(sssssttt)",
                                 SD_BUS_PARAM(url) SD_BUS_PARAM(site) SD_BUS_PARAM(fingerprint)
                                 SD_BUS_PARAM(features) SD_BUS_PARAM(leases) SD_BUS_PARAM(admin)
                                 SD_BUS_PARAM(site_leases),
                                 method_site_status, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_NAMES("ReleaseSiteLease", "sb", SD_BUS_PARAM(lease) SD_BUS_PARAM(interactive), "s",
                                 SD_BUS_PARAM(lease), method_release_site_lease, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_NAMES("Borrow", "sstb", SD_BUS_PARAM(product) SD_BUS_PARAM(feature) SD_BUS_PARAM(until)
                                 SD_BUS_PARAM(interactive), "st", SD_BUS_PARAM(lease) SD_BUS_PARAM(until),
                                 method_borrow, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_NAMES("ReturnBorrowed", "ssb", SD_BUS_PARAM(lease_or_product) SD_BUS_PARAM(feature)
                                 SD_BUS_PARAM(interactive), "s", SD_BUS_PARAM(lease), method_return_borrowed,
                                 SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_SIGNAL_WITH_NAMES("LicenseAdded", "so", SD_BUS_PARAM(id) SD_BUS_PARAM(license), 0),
        SD_BUS_SIGNAL_WITH_NAMES("LicenseRemoved", "so", SD_BUS_PARAM(id) SD_BUS_PARAM(license), 0),
        SD_BUS_SIGNAL_WITH_NAMES("FeatureChanged", "ssbs", SD_BUS_PARAM(product) SD_BUS_PARAM(feature)
                                 SD_BUS_PARAM(licensed) SD_BUS_PARAM(reason), 0),
        SD_BUS_VTABLE_END,
};

int manager_dbus_register(Context *c) {
        int r;

        r = sd_bus_add_object_vtable(c->bus, NULL, LICENSED_MANAGER_PATH, LICENSED_MANAGER_INTERFACE, manager_vtable, c);
        if (r < 0)
                return log_error_errno(r, "Failed to register the manager object: %m");
        /* org.freedesktop.DBus.ObjectManager, so clients see every license. */
        r = sd_bus_add_object_manager(c->bus, NULL, LICENSED_MANAGER_PATH);
        if (r < 0)
                return log_error_errno(r, "Failed to add the object manager: %m");
        return 0;
}
