/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* licensed-vendor answer / receipt / check-proof / check-request: the
 * vendor's side of the documents that cross the air gap (docs/offline.md). */

#include <getopt.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>

#include "crypto.h"
#include "key-file.h"
#include "license-key.h"
#include "license.h"
#include "receipt.h"
#include "request.h"
#include "timeutil.h"
#include "vendor.h"

static const char *const answer_help =
        "licensed-vendor answer --signing-key FILE --request FILE|- --id ID --licensee TEXT\n"
        "                       [--spec FILE] [FIELDS] [--output FILE]\n"
        "\n"
        "Verifies an ACTIVATION REQUEST (what 'licensectl activate --offline' prints on\n"
        "the customer's machine) and signs a license bound to that machine: its machine\n"
        "id, device key and nonce come from the request, the license key is stored\n"
        "masked, and the product is the request's. The other fields are those of\n"
        "'licensed-vendor issue --help' (flags and --spec); a product, machine id,\n"
        "device key, nonce or license key given there must agree with the request.\n"
        "\n"
        "  --request FILE|-           The activation request (- reads stdin)\n"
        "  --signing-key FILE         The private key the product trusts\n"
        "  --output FILE              Write here (atomically) instead of stdout\n";

static const char *const receipt_help =
        "licensed-vendor receipt --signing-key FILE --request FILE|- [--revoked] [--output FILE]\n"
        "\n"
        "Verifies a VALIDATION REQUEST (from a machine that validates offline) and\n"
        "signs a VALIDATION RECEIPT for it: license id, product, machine id and nonce\n"
        "from the request, validated now. 'licensectl install' takes the receipt.\n"
        "\n"
        "  --request FILE|-           The validation request (- reads stdin)\n"
        "  --signing-key FILE         The private key the product trusts\n"
        "  --revoked                  Tell the machine the license is revoked\n"
        "  --output FILE              Write here (atomically) instead of stdout\n";

static const char *const check_help =
        "licensed-vendor [--json] %s [--json] [FILE|-]\n"
        "\n"
        "Verifies %s\n"
        "against the device key it carries and, only if it is good, prints what it\n"
        "says. Exit status 0 when it verifies, 1 if not.\n";

/* Reads and verifies a machine document, printing why if it is not good. */
static int read_request(const char *verb, const char *path, MachineRequestType type, MachineRequest *ret) {
        _cleanup_free_ char *text = NULL;
        CoreError err = {};
        size_t len;
        int r;

        r = vendor_read_document(verb, path, &text, &len);
        if (r < 0)
                return r;
        r = machine_request_verify(text, len, type, ret, &err);
        if (r < 0)
                return report_error(r, "%s: %s: NOT VALID: %s", verb, streq(path, "-") ? "stdin" : path,
                                    core_error_message(&err, r));
        return 0;
}

/* Takes what the request decides into the license; what the vendor gave for
 * the same fields must agree with it. */
static int bind_to_request(License *l, const MachineRequest *req) {
        char masked[LICENSE_KEY_STRING_SIZE];
        const struct {
                char **field;
                const char *value;
                const char *what;
        } bound[] = {
                {&l->product, req->product, "product"},
                {&l->key, masked, "license key"},
                {&l->machine_id, req->machine_id, "machine id"},
                {&l->device_key, req->device_key, "device key"},
                {&l->nonce, req->nonce, "nonce"},
        };

        license_key_mask(req->key, masked);
        for (size_t i = 0; i < ELEMENTSOF(bound); i++) {
                char *copy;

                if (*bound[i].field && !streq(*bound[i].field, bound[i].value))
                        return report_error(-EINVAL, "answer: the %s given (%s) is not the request's (%s)",
                                            bound[i].what, *bound[i].field, bound[i].value);
                copy = strdup(bound[i].value);
                if (!copy)
                        return -ENOMEM;
                free(*bound[i].field);
                *bound[i].field = copy;
        }
        return 0;
}

int verb_answer(int argc, char *argv[], void *userdata) {
        _cleanup_(license_done) License l = LICENSE_INIT;
        _cleanup_(machine_request_done) MachineRequest req = MACHINE_REQUEST_INIT;
        LicenseArgs args = {.verb = "answer", .help = answer_help, .want_request = true};
        int r;

        r = vendor_license_from_argv(argc, argv, &args, &l);
        if (r != 0)
                return r < 0 ? r : 0;
        if (!args.request)
                return report_error(-EINVAL, "answer: --request FILE is required (the activation request, "
                                             "or - to read it from stdin)");
        r = read_request("answer", args.request, MACHINE_REQUEST_ACTIVATION, &req);
        if (r < 0)
                return r;
        r = bind_to_request(&l, &req);
        if (r < 0)
                return r;
        return vendor_license_sign("answer", &l, args.signing_key, args.output);
}

int verb_receipt(int argc, char *argv[], void *userdata) {
        enum { ARG_SIGNING_KEY = 0x100, ARG_REQUEST, ARG_REVOKED };
        static const struct option options[] = {
                {"help", no_argument, NULL, 'h'},
                {"output", required_argument, NULL, 'o'},
                {"signing-key", required_argument, NULL, ARG_SIGNING_KEY},
                {"request", required_argument, NULL, ARG_REQUEST},
                {"revoked", no_argument, NULL, ARG_REVOKED},
                {},
        };
        _cleanup_(machine_request_done) MachineRequest req = MACHINE_REQUEST_INIT;
        _cleanup_pkey_ EVP_PKEY *key = NULL;
        _cleanup_free_ char *text = NULL;
        const char *signing_key = NULL, *request = NULL, *output = NULL;
        bool revoked = false;
        CoreError err = {};
        int c, r;

        verb_getopt_reset();
        while ((c = getopt_long(argc, argv, "ho:", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        fputs(receipt_help, stdout);
                        return 0;
                case 'o': output = optarg; break;
                case ARG_SIGNING_KEY: signing_key = optarg; break;
                case ARG_REQUEST: request = optarg; break;
                case ARG_REVOKED: revoked = true; break;
                default: return -EINVAL;
                }
        if (optind < argc)
                return report_error(-EINVAL, "receipt: unexpected argument '%s'", argv[optind]);
        if (!signing_key)
                return report_error(-EINVAL, "receipt: --signing-key FILE is required");
        if (!request)
                return report_error(-EINVAL, "receipt: --request FILE is required (the validation request, "
                                             "or - to read it from stdin)");

        r = read_request("receipt", request, MACHINE_REQUEST_VALIDATION, &req);
        if (r < 0)
                return r;
        r = ed25519_load_private(signing_key, &key, &err);
        if (r < 0)
                return report_error(r, "receipt: %s", core_error_message(&err, r));

        r = receipt_sign_for_request(&req, revoked ? RECEIPT_REVOKED : RECEIPT_VALID, key, &text);
        if (r < 0)
                return report_error(r, "receipt: cannot sign: %s", strerror(-r));
        return vendor_write_output("receipt", output, text);
}

static json_object *request_to_json(const MachineRequest *req, const char *key_id) {
        json_object *o = json_object_new_object();
        char buf[RFC3339_MAX];
        const struct {
                const char *name, *value;
        } strings[] = {
                {"type", machine_request_type_to_string(req->type)},
                {"product", req->product},
                {"key", req->key},
                {"license_id", req->license_id},
                {"machine_id", req->machine_id},
                {"device_key", req->device_key},
                {"device_key_id", key_id},
                {"nonce", req->nonce},
                {"created", time_format_rfc3339(req->created, buf)},
                {"hostname", req->hostname},
        };

        for (size_t i = 0; i < ELEMENTSOF(strings); i++)
                if (strings[i].value)
                        json_object_object_add(o, strings[i].name, json_object_new_string(strings[i].value));
        if (req->license_id)
                json_object_object_add(o, "revision", json_object_new_int64(req->revision));
        return o;
}

static void print_request(const MachineRequest *req, const char *key_id) {
        char buf[RFC3339_MAX];

        printf("%14s: %s\n", "Document", machine_request_kind(req->type));
        printf("%14s: good (device key %s)\n", "Signature", key_id);
        if (req->license_id)
                printf("%14s: %s (revision %u)\n", "License", req->license_id, req->revision);
        printf("%14s: %s\n", "Product", req->product);
        if (req->key)
                printf("%14s: %s\n", "License key", req->key);
        printf("%14s: %s\n", "Machine", req->machine_id);
        if (req->hostname)
                printf("%14s: %s\n", "Hostname", req->hostname);
        printf("%14s: %s\n", "Device key", req->device_key);
        printf("%14s: %s\n", "Device key id", key_id);
        printf("%14s: %s\n", "Created", time_format_rfc3339(req->created, buf));
        printf("%14s: %s\n", "Nonce", req->nonce);
}

/* check-proof: a DEACTIVATION PROOF; check-request: an ACTIVATION or
 * VALIDATION REQUEST. Exit status 0 if it verifies, 1 if not. */
int verb_check(int argc, char *argv[], void *userdata) {
        enum { ARG_JSON = 0x100 };
        static const struct option options[] = {
                {"help", no_argument, NULL, 'h'},
                {"json", no_argument, NULL, ARG_JSON},
                {},
        };
        VendorOptions *o = userdata;
        const char *verb = argv[0], *path = "-";
        bool proof = streq(verb, "check-proof");
        _cleanup_(machine_request_done) MachineRequest req = MACHINE_REQUEST_INIT;
        _cleanup_free_ char *text = NULL;
        _cleanup_pkey_ EVP_PKEY *key = NULL;
        char key_id[KEY_ID_STRING_SIZE] = "";
        CoreError err = {};
        size_t len;
        int c, r;

        verb_getopt_reset();
        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        printf(check_help, verb,
                               proof ? "a DEACTIVATION PROOF (what 'licensectl deactivate --offline' prints\n"
                                       "when it removes a license)"
                                     : "an ACTIVATION REQUEST or a VALIDATION REQUEST (what a machine\n"
                                       "prints to be activated or validated offline)");
                        return 0;
                case ARG_JSON: o->json = true; break;
                default: return -EINVAL;
                }
        if (argc - optind > 1)
                return report_error(-EINVAL, "%s: one file at a time", verb);
        if (optind < argc)
                path = argv[optind];

        r = vendor_read_document(verb, path, &text, &len);
        if (r < 0)
                return r;
        r = machine_request_verify(text, len, proof ? MACHINE_REQUEST_DEACTIVATION : _MACHINE_REQUEST_TYPE_INVALID,
                                   &req, &err);
        if (r >= 0 && !proof && req.type == MACHINE_REQUEST_DEACTIVATION) {
                machine_request_done(&req);
                r = core_error_set(&err, EBADMSG, "this is a deactivation proof: use check-proof");
        }
        if (r >= 0) {
                r = ed25519_public_from_base64(req.device_key, &key, &err);
                if (r >= 0)
                        r = key_id_from_key(key, key_id);
        }

        if (o->json) {
                json_object *root = json_object_new_object(), *sig = json_object_new_object();

                json_object_object_add(sig, "valid", json_object_new_boolean(r >= 0));
                if (r >= 0)
                        json_object_object_add(sig, "device_key_id", json_object_new_string(key_id));
                else
                        json_object_object_add(sig, "error", json_object_new_string(core_error_message(&err, r)));
                json_object_object_add(root, "signature", sig);
                if (r >= 0)
                        json_object_object_add(root, "request", request_to_json(&req, key_id));
                puts(json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
                json_object_put(root);
                return r < 0 ? 1 : 0;
        }
        if (r < 0) {
                report_error(r, "%s: %s: NOT VALID: %s", verb, streq(path, "-") ? "stdin" : path,
                             core_error_message(&err, r));
                return 1;
        }
        print_request(&req, key_id);
        return 0;
}
