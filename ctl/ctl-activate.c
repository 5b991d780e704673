/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* licensectl activate, install, deactivate, export: licenses coming onto and
 * going off this machine, online or through documents carried by hand. */

#include <ctype.h>
#include <inttypes.h>

#include "armor.h"
#include "build-info.h"
#include "ctl-bus.h"
#include "ctl-license.h"
#include "ctl-list.h"
#include "ctl-output.h"
#include "fileio.h"
#include "license-key.h"

#define INSTALLED_LABEL_WIDTH 17

static void erase_key(char (*key)[LICENSE_KEY_STRING_SIZE]) {
        explicit_bzero(*key, sizeof(*key));
}

/* Whether two server URLs name the same server: scheme, host and port. */
static bool same_server(const char *a, const char *b) {
        const char *sa = strstr(a, "://"), *sb = strstr(b, "://");
        size_t la, lb;

        if (!sa || !sb)
                return streq(a, b);
        la = (size_t) (sa - a) + 3 + strcspn(sa + 3, "/?#");
        lb = (size_t) (sb - b) + 3 + strcspn(sb + 3, "/?#");
        return la == lb && strncasecmp(a, b, la) == 0;
}

/* The products the key may be for: --product; the only product licensed
 * knows; or, online, those with a server when they share one, for the
 * server to tell (activate_online()). Offline, or with products on several
 * servers, several products need --product: trying the key on each server
 * would show it to every vendor. */
static int pick_products(Ctl *c, ProductRow **ret, size_t *ret_n, sd_bus_message **ret_reply) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_free_ ProductRow *rows = NULL;
        _cleanup_free_ char *list = NULL;
        size_t n = 0, n_online = 0, list_len = 0;
        bool one_server = true;
        FILE *f;
        int r;

        if (c->product) {
                rows = calloc(1, sizeof(ProductRow));
                if (!rows)
                        return ctl_oom();
                rows[0] = (ProductRow){.id = c->product, .name = "", .server_url = "", .offline_url = ""};
                *ret = TAKE_PTR(rows);
                *ret_n = 1;
                *ret_reply = NULL;
                return 0;
        }

        r = ctl_list_products(c, &reply, &rows, &n);
        if (r != 0)
                return r;
        if (n == 0)
                return report_error(
                        CTL_EXIT_FAILURE,
                        "no product is installed on this machine: the product's vendor file belongs in "
                        "%s/ (or %s/).",
                        VENDOR_PRODUCTS_DIR, ADMIN_PRODUCTS_DIR);
        if (n > 1 && !c->offline) {
                _cleanup_free_ ProductRow *online = calloc(n, sizeof(ProductRow));

                if (!online)
                        return ctl_oom();
                for (size_t i = 0; i < n; i++)
                        if (*rows[i].server_url) {
                                if (n_online > 0 && !same_server(online[0].server_url, rows[i].server_url))
                                        one_server = false;
                                online[n_online++] = rows[i];
                        }
                if (n_online > 0 && one_server) {
                        *ret = TAKE_PTR(online);
                        *ret_n = n_online;
                        *ret_reply = TAKE_PTR(reply);
                        return 0;
                }
        }
        if (n > 1) {
                f = open_memstream(&list, &list_len);
                if (!f)
                        return ctl_oom();
                for (size_t i = 0; i < n; i++)
                        fprintf(f, "%s%s", i > 0 ? ", " : "", rows[i].id);
                if (fclose(f) != 0)
                        return ctl_oom();
                return report_error(CTL_EXIT_USAGE, "several products are installed%s: use --product (one of: %s).",
                                    c->offline ? ""
                                    : n_online == 0 ? " and none has a license server to ask which one the key is for"
                                                    : " and their license servers differ, so the key is not sent to "
                                                      "each to ask",
                                    list);
        }
        *ret = TAKE_PTR(rows);
        *ret_n = 1;
        *ret_reply = TAKE_PTR(reply);
        return 0;
}

/* Offline activation step 1, or with key NULL an offline trial's. */
static int activate_offline(Ctl *c, const char *product, const char *key) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        const char *method = key ? "RequestOfflineActivation" : "RequestOfflineTrial";
        const char *noun = key ? "activation request" : "trial request";
        const char *request, *url;
        json_object *o = NULL;
        FILE *f;
        int r;

        if (key)
                r = ctl_call(c, method, CTL_TIMEOUT_LONG_USEC, &reply, "ssb", product, key, c->interactive);
        else
                r = ctl_call(c, method, CTL_TIMEOUT_LONG_USEC, &reply, "sb", product, c->interactive);
        if (r == 0)
                r = ctl_read_reply(reply, method, "ss", &request, &url);
        if (r != 0)
                return r;

        o = offline_json(c, NULL, *url ? url : NULL, request);
        if (o)
                json_object_object_add(o, "product", json_object_new_string(product));
        /* An activation request carries the full license key: 0600. */
        r = ctl_emit_document(c, o, "request", request, noun, true);
        if (r != 0 || c->json)
                return r;
        r = offline_print_way_out(c, *url ? url : NULL, request, noun);
        if (r != 0)
                return r;

        f = instructions_stream(c->output);
        fprintf(f, "%s; then run:\n"
                   "  licensectl install LICENSE-FILE\n"
                   "with the license you receive. A new request replaces this one.\n",
                *url ? "Or send this request to your vendor" : "Send this request to your vendor");
        return 0;
}

/* "reports, export (until 2026-01-01), seats (limit 5)": a feature's end
 * only where it is not the license's. */
static int features_summary(const FeatureList *features, uint64_t license_expires, char **ret) {
        _cleanup_free_ char *text = NULL;
        size_t len = 0;
        FILE *f;

        f = open_memstream(&text, &len);
        if (!f)
                return -ENOMEM;
        for (size_t i = 0; i < features->n; i++) {
                const Feature *x = &features->items[i];
                char buf[CTL_TIME_MAX];
                uint64_t expires = x->expires != license_expires ? x->expires : 0;

                fprintf(f, "%s%s", i > 0 ? ", " : "", x->name);
                if (expires && x->limit)
                        fprintf(f, " (until %s, limit %" PRIu32 ")", format_date(expires, buf, "?"), x->limit);
                else if (expires)
                        fprintf(f, " (until %s)", format_date(expires, buf, "?"));
                else if (x->limit)
                        fprintf(f, " (limit %" PRIu32 ")", x->limit);
        }
        if (fclose(f) != 0)
                return -ENOMEM;
        *ret = TAKE_PTR(text);
        return 0;
}

/* What was installed, in short: "show" for the few fields a person checks
 * right after installing (the product, type, features and expiry). */
static int print_installed(Ctl *c, const char *verb_done, bool receipt, const char *path) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *props = NULL;
        _cleanup_(license_info_done) LicenseInfo l = {};
        _cleanup_free_ char *features = NULL;
        char buf[CTL_TIME_MAX];
        int r;

        r = ctl_get_license_info(c, path, &l, &props);
        if (r != 0)
                return r;
        if (!l.id)
                return report_error(CTL_EXIT_FAILURE, "licensed did not say which license %s is.", path);
        if (c->json) {
                json_object *o = json_object_new_object(), *names = json_object_new_array();

                if (!o || !names) {
                        json_object_put(o);
                        json_object_put(names);
                        return ctl_oom();
                }
                for (size_t i = 0; i < l.features.n; i++)
                        json_object_array_add(names, json_object_new_string(l.features.items[i].name));
                json_object_object_add(o, "id", json_object_new_string(l.id));
                json_object_object_add(o, "revision", json_object_new_int64(l.revision));
                json_object_object_add(o, "product", json_string_or_null(l.product));
                json_object_object_add(o, "type", json_string_or_null(l.type));
                json_object_object_add(o, "status", json_string_or_null(l.status));
                json_object_object_add(o, "expires", json_timestamp(l.expires));
                json_object_object_add(o, "features", names);
                json_object_object_add(o, "object", json_object_new_string(path));
                return json_print(o);
        }
        if (features_summary(&l.features, l.expires, &features) < 0)
                return ctl_oom();

#define FIELD(label, color, ...) print_field(INSTALLED_LABEL_WIDTH, label, color, __VA_ARGS__)
        if (receipt) {
                printf("%s the validation receipt for license %s.\n", verb_done, l.id);
                FIELD("Last validation", NULL, "%s", format_timestamp(l.last_validation, buf, "never"));
        } else {
                printf("%s license %s (revision %" PRIu32 ").\n", verb_done, l.id, l.revision);
                FIELD("Product", NULL, "%s", l.product ?: "?");
                FIELD("Type", NULL, "%s", l.type ?: "?");
                FIELD("Features", NULL, "%s", *features ? features : "(none)");
                FIELD("Expires", NULL, "%s", format_timestamp(l.expires, buf, "never"));
        }
        FIELD("Status", status_color(l.status), "%s", l.status ?: "?");
#undef FIELD
        return 0;
}

/* Is this the server's wrong-product answer ("the license key is for P2,
 * not for P1", docs/protocol.md)? Then the key may be another product's. */
static bool refused_as_wrong_product(const sd_bus_error *e) {
        return sd_bus_error_has_name(e, BUS_ERROR_SERVER_REFUSED) && e->message &&
               strstr(e->message, " answered HTTP 403: the license key is for ");
}

/* Activates key for the first of the products whose server does not
 * answer wrong-product. A failure is reported; when the network or the
 * missing server is what failed, with the exact command that activates
 * offline. Returns an exit status. */
static int activate_online(Ctl *c, const ProductRow *products, size_t n, const char *key) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        const char *path;
        size_t i;
        int r = 0;

        for (i = 0; i < n; i++) {
                sd_bus_error_free(&error);
                r = ctl_call_or_error(c, "Activate", CTL_TIMEOUT_LONG_USEC, &error, &reply, "ssb", products[i].id,
                                      key, c->interactive);
                if (r > 0)
                        return r; /* licensed was not reached: said so */
                if (r == 0 || !refused_as_wrong_product(&error) || i + 1 == n)
                        break;
        }
        if (r == 0) {
                r = ctl_read_reply(reply, "Activate", "o", &path);
                if (r != 0)
                        return r;
                return print_installed(c, "Activated", false, path);
        }

        r = ctl_bus_error(&error, r);
        if (sd_bus_error_has_names(&error, BUS_ERROR_SERVER_UNREACHABLE, BUS_ERROR_NOT_SUPPORTED)) {
                if (n == 1)
                        fprintf(stderr,
                                "To activate without the network, run:\n"
                                "  licensectl activate --offline --product %s %s\n",
                                products[0].id, key);
                else
                        fprintf(stderr, "To activate without the network, run:\n"
                                        "  licensectl activate --offline --product PRODUCT %s\n"
                                        "with the key's product for PRODUCT.\n", key);
        }
        return r;
}

int verb_activate(_unused_ int argc, char *argv[], void *userdata) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *products_reply = NULL;
        _cleanup_(erase_key) char key[LICENSE_KEY_STRING_SIZE] = "";
        _cleanup_free_ ProductRow *products = NULL;
        CoreError err = {};
        Ctl *c = userdata;
        size_t n = 0;
        int r;

        if (!c->offline && (c->output || c->qr != QR_AUTO))
                return report_error(CTL_EXIT_USAGE, "--output and --qr go with --offline.");

        /* A typo is caught here, before licensed or a server is asked. */
        r = license_key_normalize(argv[1], key, &err);
        if (r < 0)
                return report_error(CTL_EXIT_USAGE, "the license key is mistyped: %s.",
                                    core_error_message(&err, r));

        r = pick_products(c, &products, &n, &products_reply);
        if (r != 0)
                return r;
        if (c->offline)
                return activate_offline(c, products[0].id, key);
        return activate_online(c, products, n, key);
}

/* trial PRODUCT: the product's trial, from its server (or --offline
 * through the offline page); the server gives one per machine. */
int verb_trial(_unused_ int argc, char *argv[], void *userdata) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        Ctl *c = userdata;
        const char *path;
        int r;

        if (!c->offline && (c->output || c->qr != QR_AUTO))
                return report_error(CTL_EXIT_USAGE, "--output and --qr go with --offline.");
        if (c->offline)
                return activate_offline(c, argv[1], NULL);
        r = ctl_call_or_error(c, "StartTrial", CTL_TIMEOUT_LONG_USEC, &error, &reply, "sb", argv[1],
                              c->interactive);
        if (r > 0)
                return r; /* licensed was not reached: said so */
        if (r < 0) {
                r = ctl_bus_error(&error, r);
                if (sd_bus_error_has_names(&error, BUS_ERROR_SERVER_UNREACHABLE, BUS_ERROR_NOT_SUPPORTED))
                        fprintf(stderr, "To start the trial without the network, run:\n"
                                        "  licensectl trial --offline %s\n", argv[1]);
                return r;
        }
        r = ctl_read_reply(reply, "StartTrial", "o", &path);
        if (r != 0)
                return r;
        return print_installed(c, "Started the trial with", false, path);
}

int verb_install(_unused_ int argc, char *argv[], void *userdata) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_free_ char *text = NULL, *canonical = NULL;
        _cleanup_(armor_done) Armor a = {};
        const char *file = argv[1], *path;
        CoreError err = {};
        Ctl *c = userdata;
        bool receipt;
        size_t len;
        int r;

        r = streq(file, "-") ? read_stream(stdin, ARMOR_MAX_SIZE, &text, &len)
                             : read_file(file, ARMOR_MAX_SIZE, &text, &len);
        if (r == -EFBIG)
                return report_error(CTL_EXIT_FAILURE, "%s is larger than any license (%d KiB at most).",
                                    file, ARMOR_MAX_SIZE / 1024);
        if (r < 0)
                return report_error(CTL_EXIT_FAILURE, "cannot read %s: %s.", file, strerror(-r));

        /* Look at it here first: the wrong file (the request instead of the
         * answer, say) gets a clear word without asking licensed. Only the
         * armored block is sent, so the mail around it does not matter. */
        r = armor_decode(text, len, NULL, &a, &err);
        if (r < 0)
                return report_error(CTL_EXIT_FAILURE, "%s is not a license or a validation receipt: %s.",
                                    file, core_error_message(&err, r));
        receipt = streq(a.kind, "VALIDATION RECEIPT");
        if (!receipt && !streq(a.kind, "LICENSE")) {
                for (char *p = a.kind; *p; p++)
                        *p = (char) tolower((unsigned char) *p);
                return report_error(
                        CTL_EXIT_FAILURE,
                        "%s is %s %s, not a license or a validation receipt. Requests and proofs go to "
                        "the vendor; install what the vendor sends back.",
                        file, strchr("aeiou", a.kind[0]) ? "an" : "a", a.kind);
        }
        r = armor_encode(a.kind, a.key_id, a.signature, a.body, a.body_len, &canonical);
        if (r < 0)
                return report_error(CTL_EXIT_FAILURE, "cannot re-armor %s: %s.", file, strerror(-r));

        r = ctl_call(c, "InstallLicense", CTL_TIMEOUT_LONG_USEC, &reply, "sb", canonical, c->interactive);
        if (r == 0)
                r = ctl_read_reply(reply, "InstallLicense", "o", &path);
        if (r != 0)
                return r;
        return print_installed(c, "Installed", receipt, path);
}

int verb_deactivate(_unused_ int argc, char *argv[], void *userdata) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_free_ char *page = NULL;
        const char *id = argv[1], *proof;
        Ctl *c = userdata;
        FILE *f;
        int r;

        /* Asked first: after the call the license, and so its product, is gone. */
        r = offline_page_of_license(c, id, &page);
        if (r == 0)
                r = ctl_call(c, "Deactivate", CTL_TIMEOUT_LONG_USEC, &reply, "sbb", id, c->offline,
                             c->interactive);
        if (r == 0)
                r = ctl_read_reply(reply, "Deactivate", "s", &proof);
        if (r != 0)
                return r;

        /* The license is gone now: the proof must reach the user even if
         * --output fails (ctl_write_document() sees to that). */
        r = ctl_emit_document(c, *proof ? offline_json(c, id, page, proof) : json_for_id(c, id), "proof", proof,
                              "deactivation proof", false);
        if (c->json)
                return r;

        f = instructions_stream(c->output);
        if (!*proof) {
                fprintf(f, "License %s was removed from this machine and its seat freed.\n", id);
                return r;
        }
        fprintf(f, "License %s was removed from this machine.\n", id);
        fflush(f);
        (void) offline_print_way_out(c, page, proof, "deactivation proof");
        fprintf(f, "%s to free the seat.\n",
                page ? "Or send this deactivation proof to your vendor" : "Send this deactivation proof to your vendor");
        return r;
}

int verb_export(_unused_ int argc, char *argv[], void *userdata) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        const char *id = argv[1], *text;
        Ctl *c = userdata;
        int r;

        r = ctl_call(c, "Export", CTL_TIMEOUT_USEC, &reply, "s", id);
        if (r == 0)
                r = ctl_read_reply(reply, "Export", "s", &text);
        if (r != 0)
                return r;
        return ctl_emit_document(c, json_for_id(c, id), "license", text, "license", false);
}
