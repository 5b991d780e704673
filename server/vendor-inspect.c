/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* licensed-vendor inspect: verify a license, then show what it says. */

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "armor.h"
#include "crypto.h"
#include "fileio.h"
#include "license-json.h"
#include "license.h"
#include "strutil.h"
#include "timeutil.h"
#include "vendor.h"

static int load_public_key(const char *path, EVP_PKEY **ret, CoreError *err) {
        _cleanup_free_ char *text = NULL;
        int r;

        r = read_file(path, 4096, &text, NULL);
        if (r < 0)
                return core_error_set(err, r, "cannot read public key %s: %s", path, strerror(-r));
        r = ed25519_public_from_base64(strstrip(text), ret, err);
        if (r < 0)
                core_error_prefix(err, "%s: ", path);
        return r;
}

static void print_time(const char *label, int64_t t, const char *unset) {
        char buf[RFC3339_MAX];
        printf("%18s: %s\n", label, t == TIME_UNSET ? unset : time_format_rfc3339(t, buf));
}

static void print_license(const License *l, const char *key_id) {
        char buf[32];

        printf("%18s: %s (revision %u)\n", "License", l->id, l->revision);
        printf("%18s: good (key %s)\n", "Signature", key_id);
        printf("%18s: %s\n", "Product", l->product);
        printf("%18s: %s\n", "Licensee", l->licensee);
        printf("%18s: %s\n", "Type", license_type_to_string(l->type));
        print_time("Issued", l->issued, "-");
        print_time("Not before", l->not_before, "(from issue)");
        print_time("Not after", l->not_after, "never");
        print_time("Maintenance until", l->maintenance_until, "(all versions)");
        if (l->key)
                printf("%18s: %s\n", "License key", l->key);
        for (size_t i = 0; i < l->n_features; i++) {
                const LicenseFeature *f = &l->features[i];
                char ts[RFC3339_MAX], lim[32] = "";
                if (f->limit)
                        snprintf(lim, sizeof(lim), ", %u seats", f->limit);
                printf("%18s%s %s%s%s%s\n", i == 0 ? "Features" : "", i == 0 ? ":" : " ", f->name, lim,
                       f->expires ? ", until " : "", f->expires ? time_format_rfc3339(f->expires, ts) : "");
        }
        if (l->n_features == 0)
                printf("%18s: (none)\n", "Features");
        for (size_t i = 0; i < l->n_properties; i++)
                printf("%18s%s %s=%s\n", i == 0 ? "Properties" : "", i == 0 ? ":" : " ", l->properties[i].name,
                       l->properties[i].value);
        printf("%18s: %s\n", "Machine", l->machine_id ?: "(not bound: needs activation)");
        if (l->device_key)
                printf("%18s: %s\n", "Device key", l->device_key);
        if (l->nonce)
                printf("%18s: %s\n", "Answers request", l->nonce);
        printf("%18s: %s\n", "Validation every",
               l->validation_interval < 0 ? "(product default)"
               : l->validation_interval == 0 ? "never"
                                             : duration_format(l->validation_interval, buf));
        printf("%18s: %s\n", "Grace period",
               l->grace_period < 0 ? "(product default)" : duration_format(l->grace_period, buf));
        if (l->server_url)
                printf("%18s: %s\n", "Server", l->server_url);
}

int verb_inspect(int argc, char *argv[], void *userdata) {
        static const struct option options[] = {
                {"help", no_argument, NULL, 'h'},
                {"public-key", required_argument, NULL, 'k'},
                {},
        };
        VendorOptions *o = userdata;
        _cleanup_pkey_ EVP_PKEY *key = NULL;
        _cleanup_free_ char *text = NULL;
        _cleanup_(armor_done) Armor a = {};
        _cleanup_(license_done) License l = LICENSE_INIT;
        const char *pubkey = NULL, *path = "-";
        CoreError err = {};
        size_t len;
        int c, r;

        license_init(&l);
        verb_getopt_reset();
        while ((c = getopt_long(argc, argv, "hk:", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        printf("licensed-vendor [--json] inspect --public-key FILE [LICENSE|-]\n\n"
                               "Verifies the signature of a license with the public key (a .pub file from\n"
                               "keygen) and, only if it is good, prints the license's fields. Exit status 0\n"
                               "when the license verifies, 1 otherwise.\n");
                        return 0;
                case 'k': pubkey = optarg; break;
                default: return -EINVAL;
                }
        if (argc - optind > 1)
                return report_error(-EINVAL, "inspect: one license file at a time");
        if (optind < argc)
                path = argv[optind];
        if (!pubkey)
                return report_error(-EINVAL,
                                    "inspect: --public-key FILE is required: the fields of a license "
                                    "are only shown once its signature is verified");

        r = load_public_key(pubkey, &key, &err);
        if (r < 0)
                return report_error(r, "inspect: %s", core_error_message(&err, r));

        r = streq(path, "-") ? read_stream(stdin, ARMOR_MAX_SIZE, &text, &len)
                             : read_file(path, ARMOR_MAX_SIZE, &text, &len);
        if (r == -EFBIG)
                return report_error(r, "inspect: %s is larger than any license (%d bytes max)", path,
                                    ARMOR_MAX_SIZE);
        if (r < 0)
                return report_error(r, "inspect: cannot read %s: %s", path, strerror(-r));

        r = armor_decode(text, len, "LICENSE", &a, &err);
        if (r >= 0)
                r = license_verify_with_key(text, len, key, &l, &err);

        if (o->json) {
                json_object *root = json_object_new_object(), *sig = json_object_new_object();
                json_object_object_add(sig, "valid", json_object_new_boolean(r >= 0));
                if (a.body)
                        json_object_object_add(sig, "key_id", json_object_new_string(a.key_id));
                if (r < 0)
                        json_object_object_add(sig, "error", json_object_new_string(core_error_message(&err, r)));
                json_object_object_add(root, "signature", sig);
                if (r >= 0)
                        json_object_object_add(root, "license", license_to_json(&l));
                puts(json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
                json_object_put(root);
                return r < 0 ? 1 : 0;
        }
        if (r < 0) {
                report_error(r, "inspect: %s: NOT VALID: %s", path, core_error_message(&err, r));
                return 1;
        }
        print_license(&l, a.key_id);
        return 0;
}
