/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* licensectl activate, install, deactivate, export: licenses coming onto and
 * going off this machine, online or through documents carried by hand. */

#include <ctype.h>

#include "armor.h"
#include "build-info.h"
#include "ctl-bus.h"
#include "ctl-list.h"
#include "ctl-output.h"
#include "fileio.h"
#include "license-key.h"

static void erase_key(char (*key)[LICENSE_KEY_STRING_SIZE]) {
        explicit_bzero(*key, sizeof(*key));
}

/* The product to activate: --product, or the only product licensed knows. */
static int pick_product(Ctl *c, char **ret) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_free_ ProductRow *rows = NULL;
        _cleanup_free_ char *list = NULL;
        size_t n = 0, list_len = 0;
        FILE *f;
        int r;

        if (c->product) {
                *ret = strdup(c->product);
                return *ret ? 0 : ctl_oom();
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
        if (n > 1) {
                f = open_memstream(&list, &list_len);
                if (!f)
                        return ctl_oom();
                for (size_t i = 0; i < n; i++)
                        fprintf(f, "%s%s", i > 0 ? ", " : "", rows[i].id);
                if (fclose(f) != 0)
                        return ctl_oom();
                return report_error(CTL_EXIT_USAGE,
                                    "several products are installed: use --product (one of: %s).", list);
        }
        *ret = strdup(rows[0].id);
        return *ret ? 0 : ctl_oom();
}

static int activate_offline(Ctl *c, const char *product, const char *key) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        const char *request, *url;
        json_object *o = NULL;
        FILE *f;
        int r;

        r = ctl_call(c, "RequestOfflineActivation", CTL_TIMEOUT_LONG_USEC, &reply, "ssb", product, key,
                     c->interactive);
        if (r == 0)
                r = ctl_read_reply(reply, "RequestOfflineActivation", "ss", &request, &url);
        if (r != 0)
                return r;

        o = offline_json(c, NULL, *url ? url : NULL, request);
        if (o)
                json_object_object_add(o, "product", json_object_new_string(product));
        /* The request carries the full license key: 0600. */
        r = ctl_emit_document(c, o, "request", request, "activation request", true);
        if (r != 0 || c->json)
                return r;
        r = offline_print_way_out(c, *url ? url : NULL, request, "activation request");
        if (r != 0)
                return r;

        f = instructions_stream(c->output);
        fprintf(f, "%s; then run:\n"
                   "  licensectl install LICENSE-FILE\n"
                   "with the license you receive. A new request replaces this one.\n",
                *url ? "Or send this request to your vendor" : "Send this request to your vendor");
        return 0;
}

static int print_installed(Ctl *c, const char *verb_done, const char *what, const char *path) {
        _cleanup_free_ char *id = NULL;
        int r;

        r = ctl_license_id(c, path, &id);
        if (r != 0)
                return r;
        if (c->json) {
                json_object *o = json_object_new_object();

                if (!o)
                        return ctl_oom();
                json_object_object_add(o, "id", json_object_new_string(id));
                json_object_object_add(o, "object", json_object_new_string(path));
                return json_print(o);
        }
        printf("%s %s %s.\n", verb_done, what, id);
        return 0;
}

int verb_activate(_unused_ int argc, char *argv[], void *userdata) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(erase_key) char key[LICENSE_KEY_STRING_SIZE] = "";
        _cleanup_free_ char *product = NULL;
        CoreError err = {};
        const char *path;
        Ctl *c = userdata;
        int r;

        if (!c->offline && (c->output || c->qr != QR_AUTO))
                return report_error(CTL_EXIT_USAGE, "--output and --qr go with --offline.");

        /* A typo is caught here, before licensed or a server is asked. */
        r = license_key_normalize(argv[1], key, &err);
        if (r < 0)
                return report_error(CTL_EXIT_USAGE, "the license key is mistyped: %s.",
                                    core_error_message(&err, r));

        r = pick_product(c, &product);
        if (r != 0)
                return r;

        if (c->offline)
                return activate_offline(c, product, key);

        r = ctl_call(c, "Activate", CTL_TIMEOUT_LONG_USEC, &reply, "ssb", product, key, c->interactive);
        if (r == 0)
                r = ctl_read_reply(reply, "Activate", "o", &path);
        if (r != 0)
                return r;
        return print_installed(c, "Activated", "license", path);
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
        return print_installed(c, "Installed", receipt ? "the validation receipt for license" : "license", path);
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
