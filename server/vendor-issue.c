/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* licensed-vendor issue: build a License from a spec file and/or flags, sign it.
 * 'answer' (vendor-offline.c) builds its license with the same code. */

#include <assert.h>
#include <getopt.h>
#include <libconfig.h>
#include <stdio.h>
#include <stdlib.h>

#include "conf-file.h"
#include "crypto.h"
#include "fileio.h"
#include "key-file.h"
#include "license-key.h"
#include "license.h"
#include "timeutil.h"
#include "vendor.h"

static const char *const issue_help =
        "licensed-vendor issue --signing-key FILE [--spec FILE] [FIELDS] [--output FILE]\n"
        "\n"
        "Signs a license. Fields come from a libconfig spec file (--spec) and/or\n"
        "flags; a flag overrides the spec. Times are UTC: 2026-11-22 or\n"
        "2026-11-22T10:00:00Z; durations: 14d, 12h, 3600.\n"
        "\n"
        "  --id ID                    License id (required): A-Z a-z 0-9 . _ -\n"
        "  --revision N               Revision, default 1; a higher one upgrades\n"
        "  --product ID               Product id (required)\n"
        "  --licensee TEXT            Who it is for (required)\n"
        "  --type TYPE                perpetual (default), subscription, trial\n"
        "  --issued TIME              Default: now\n"
        "  --not-before TIME          --not-after TIME   --maintenance-until TIME\n"
        "  --feature NAME[:limit=N,expires=TIME]   (repeatable)\n"
        "  --property NAME=VALUE      (repeatable)\n"
        "  --license-key KEY          The customer's license key (stored masked)\n"
        "  --machine-id HEX --device-key BASE64   Bind to one machine\n"
        "  --nonce HEX                The request this answers\n"
        "  --validation-interval DURATION  --grace-period DURATION  --server-url URL\n"
        "  --output FILE              Write here (atomically) instead of stdout\n";

enum {
        ARG_ID = 0x100, ARG_REVISION, ARG_PRODUCT, ARG_LICENSEE, ARG_TYPE, ARG_ISSUED, ARG_NOT_BEFORE,
        ARG_NOT_AFTER, ARG_MAINTENANCE, ARG_FEATURE, ARG_PROPERTY, ARG_LICENSE_KEY, ARG_MACHINE_ID,
        ARG_DEVICE_KEY, ARG_NONCE, ARG_INTERVAL, ARG_GRACE, ARG_SERVER_URL,
        /* not license fields: */
        ARG_SPEC, ARG_SIGNING_KEY, ARG_REQUEST,
};

static int replace_string(char **dst, const char *v) {
        char *n = strdup(v);
        if (!n)
                return -ENOMEM;
        free(*dst);
        *dst = n;
        return 0;
}

/* Applies one named field (from a flag or the spec) to the license. */
static int apply_field(License *l, int which, const char *v, CoreError *err) {
        char key[LICENSE_KEY_STRING_SIZE];
        int64_t *t = NULL, *d = NULL;
        int r;

        switch (which) {
        case ARG_ID: return replace_string(&l->id, v);
        case ARG_PRODUCT: return replace_string(&l->product, v);
        case ARG_LICENSEE: return replace_string(&l->licensee, v);
        case ARG_MACHINE_ID: return replace_string(&l->machine_id, v);
        case ARG_DEVICE_KEY: return replace_string(&l->device_key, v);
        case ARG_NONCE: return replace_string(&l->nonce, v);
        case ARG_SERVER_URL: return replace_string(&l->server_url, v);
        case ARG_LICENSE_KEY: {
                /* Only the masked key goes into the license: it is shown and
                 * exported freely, and the full key could activate elsewhere. */
                char masked[LICENSE_KEY_STRING_SIZE];
                r = license_key_normalize(v, key, err);
                if (r < 0)
                        return r;
                license_key_mask(key, masked);
                return replace_string(&l->key, masked);
        }
        case ARG_REVISION: {
                char *end;
                unsigned long n;
                errno = 0;
                n = strtoul(v, &end, 10);
                if (errno || *end || !*v || n > UINT32_MAX)
                        return core_error_set(err, EINVAL, "revision '%s' is not a number", v);
                l->revision = (uint32_t) n;
                return 0;
        }
        case ARG_TYPE:
                l->type = license_type_from_string(v);
                if (l->type < 0)
                        return core_error_set(err, EINVAL, "type '%s' is not perpetual, subscription, trial or floating", v);
                return 0;
        case ARG_ISSUED: t = &l->issued; break;
        case ARG_NOT_BEFORE: t = &l->not_before; break;
        case ARG_NOT_AFTER: t = &l->not_after; break;
        case ARG_MAINTENANCE: t = &l->maintenance_until; break;
        case ARG_INTERVAL: d = &l->validation_interval; break;
        case ARG_GRACE: d = &l->grace_period; break;
        case ARG_FEATURE: return license_add_feature_spec(l, v, err);
        case ARG_PROPERTY: {
                _cleanup_free_ char *name = NULL;
                const char *eq = strchr(v, '=');
                if (!eq)
                        return core_error_set(err, EINVAL, "property '%s' is not NAME=VALUE", v);
                name = strndup(v, (size_t) (eq - v));
                if (!name)
                        return -ENOMEM;
                return license_set_property(l, name, eq + 1, err);
        }
        default:
                return -EINVAL;
        }
        if (t)
                return time_parse_rfc3339(v, t, err);
        return duration_parse(v, d, err);
}

static const struct {
        const char *name; /* spec setting name */
        int which;
} spec_fields[] = {
        {"id", ARG_ID}, {"revision", ARG_REVISION}, {"product", ARG_PRODUCT}, {"licensee", ARG_LICENSEE},
        {"type", ARG_TYPE}, {"issued", ARG_ISSUED}, {"not_before", ARG_NOT_BEFORE},
        {"not_after", ARG_NOT_AFTER}, {"maintenance_until", ARG_MAINTENANCE}, {"license_key", ARG_LICENSE_KEY},
        {"machine_id", ARG_MACHINE_ID}, {"device_key", ARG_DEVICE_KEY}, {"nonce", ARG_NONCE},
        {"validation_interval", ARG_INTERVAL}, {"grace_period", ARG_GRACE}, {"server_url", ARG_SERVER_URL},
};

/* Spec values may be strings or integers (revision, durations in seconds). */
static int setting_text(config_setting_t *s, char buf[static 32], const char **ret) {
        switch (config_setting_type(s)) {
        case CONFIG_TYPE_STRING:
                *ret = config_setting_get_string(s);
                return 0;
        case CONFIG_TYPE_INT:
        case CONFIG_TYPE_INT64:
                snprintf(buf, 32, "%lld", config_setting_get_int64(s));
                *ret = buf;
                return 0;
        default:
                return -EINVAL;
        }
}

static int spec_features(License *l, config_setting_t *s, const char *path, CoreError *err) {
        int n = config_setting_length(s), r;

        if (config_setting_type(s) != CONFIG_TYPE_LIST && config_setting_type(s) != CONFIG_TYPE_ARRAY)
                return core_error_set(err, EINVAL, "%s:%d: features must be a list", path,
                                      config_setting_source_line(s));
        for (int i = 0; i < n; i++) {
                config_setting_t *e = config_setting_get_elem(s, (unsigned) i);
                const char *name = NULL, *expires = NULL;
                int limit = 0;
                int64_t exp = TIME_UNSET;

                if (config_setting_type(e) == CONFIG_TYPE_STRING)
                        r = license_add_feature_spec(l, config_setting_get_string(e), err);
                else if (config_setting_type(e) == CONFIG_TYPE_GROUP) {
                        static const char *const known[] = {"name", "expires", "limit"};
                        config_setting_t *ls = config_setting_get_member(e, "limit");

                        /* Strict like the rest of the file: "limt = 5" must not
                         * silently issue an uncounted feature. */
                        r = conf_check_unknown_settings(e, known, ELEMENTSOF(known), path, err);
                        if (r < 0)
                                return r;
                        if (!config_setting_lookup_string(e, "name", &name))
                                return conf_setting_error(err, EINVAL, path, e, "a feature needs name = \"...\";");
                        if (config_setting_get_member(e, "expires") &&
                            !config_setting_lookup_string(e, "expires", &expires))
                                return conf_setting_error(err, EINVAL, path, e, "expires must be a string date");
                        if (ls && config_setting_type(ls) != CONFIG_TYPE_INT)
                                return conf_setting_error(err, EINVAL, path, ls, "limit must be an integer");
                        if (ls)
                                limit = config_setting_get_int(ls);
                        if (limit < 0)
                                return core_error_set(err, EINVAL, "%s:%d: limit must be positive", path,
                                                      config_setting_source_line(e));
                        r = expires ? time_parse_rfc3339(expires, &exp, err) : 0;
                        if (r >= 0)
                                r = license_add_feature(l, name, exp, (uint32_t) limit, err);
                } else
                        return core_error_set(err, EINVAL, "%s:%d: a feature is a string or { name = ...; }",
                                              path, config_setting_source_line(e));
                if (r < 0) {
                        core_error_prefix(err, "%s:%d: ", path, config_setting_source_line(e));
                        return r;
                }
        }
        return 0;
}

static int spec_properties(License *l, config_setting_t *s, const char *path, CoreError *err) {
        int n = config_setting_length(s), r;

        if (config_setting_type(s) != CONFIG_TYPE_GROUP)
                return core_error_set(err, EINVAL, "%s:%d: properties must be a group { name = \"value\"; }", path,
                                      config_setting_source_line(s));
        for (int i = 0; i < n; i++) {
                config_setting_t *e = config_setting_get_elem(s, (unsigned) i);
                const char *v = config_setting_get_string(e);
                if (!v)
                        return core_error_set(err, EINVAL, "%s:%d: property values are strings", path,
                                              config_setting_source_line(e));
                r = license_set_property(l, config_setting_name(e), v, err);
                if (r < 0) {
                        core_error_prefix(err, "%s:%d: ", path, config_setting_source_line(e));
                        return r;
                }
        }
        return 0;
}

static int load_spec(License *l, const char *path, CoreError *err) {
        config_t cfg;
        config_setting_t *root;
        int r = 0;

        config_init(&cfg);
        /* The same safe reading (size limit, no FIFOs) as every config file. */
        r = conf_file_read(&cfg, path, false, err);
        if (r < 0)
                goto out;
        root = config_root_setting(&cfg);
        for (int i = 0; i < config_setting_length(root) && r >= 0; i++) {
                config_setting_t *s = config_setting_get_elem(root, (unsigned) i);
                const char *name = config_setting_name(s), *v;
                char buf[32];
                int which = -1;

                if (streq(name, "features")) {
                        r = spec_features(l, s, path, err);
                        continue;
                }
                if (streq(name, "properties")) {
                        r = spec_properties(l, s, path, err);
                        continue;
                }
                for (size_t k = 0; k < ELEMENTSOF(spec_fields); k++)
                        if (streq(name, spec_fields[k].name))
                                which = spec_fields[k].which;
                if (which < 0) {
                        r = core_error_set(err, EINVAL, "%s:%d: unknown setting '%s'", path,
                                           config_setting_source_line(s), name);
                        break;
                }
                if (setting_text(s, buf, &v) < 0) {
                        r = core_error_set(err, EINVAL, "%s:%d: %s must be a string or number", path,
                                           config_setting_source_line(s), name);
                        break;
                }
                r = apply_field(l, which, v, err);
                if (r < 0)
                        core_error_prefix(err, "%s:%d: %s: ", path, config_setting_source_line(s), name);
        }
out:
        config_destroy(&cfg);
        return r;
}

static const struct option license_options[] = {
        {"help", no_argument, NULL, 'h'},
        {"output", required_argument, NULL, 'o'},
        {"signing-key", required_argument, NULL, ARG_SIGNING_KEY},
        {"request", required_argument, NULL, ARG_REQUEST},
        {"spec", required_argument, NULL, ARG_SPEC},
        {"id", required_argument, NULL, ARG_ID},
        {"revision", required_argument, NULL, ARG_REVISION},
        {"product", required_argument, NULL, ARG_PRODUCT},
        {"licensee", required_argument, NULL, ARG_LICENSEE},
        {"type", required_argument, NULL, ARG_TYPE},
        {"issued", required_argument, NULL, ARG_ISSUED},
        {"not-before", required_argument, NULL, ARG_NOT_BEFORE},
        {"not-after", required_argument, NULL, ARG_NOT_AFTER},
        {"maintenance-until", required_argument, NULL, ARG_MAINTENANCE},
        {"feature", required_argument, NULL, ARG_FEATURE},
        {"property", required_argument, NULL, ARG_PROPERTY},
        {"license-key", required_argument, NULL, ARG_LICENSE_KEY},
        {"machine-id", required_argument, NULL, ARG_MACHINE_ID},
        {"device-key", required_argument, NULL, ARG_DEVICE_KEY},
        {"nonce", required_argument, NULL, ARG_NONCE},
        {"validation-interval", required_argument, NULL, ARG_INTERVAL},
        {"grace-period", required_argument, NULL, ARG_GRACE},
        {"server-url", required_argument, NULL, ARG_SERVER_URL},
        {},
};

int vendor_license_from_argv(int argc, char *argv[], LicenseArgs *args, License *l) {
        const char *spec = NULL;
        CoreError err = {};
        int c, r;

        assert(args);
        assert(l);

        license_init(l);
        l->type = LICENSE_PERPETUAL;
        l->revision = 1;

        /* Two passes: the spec first, so flags override it whatever their order. */
        verb_getopt_reset();
        while ((c = getopt_long(argc, argv, "ho:", license_options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        fputs(args->help, stdout);
                        return 1;
                case 'o': args->output = optarg; break;
                case ARG_SIGNING_KEY: args->signing_key = optarg; break;
                case ARG_SPEC: spec = optarg; break;
                case ARG_REQUEST:
                        if (!args->want_request)
                                return report_error(-EINVAL, "%s: --request is for 'answer'", args->verb);
                        args->request = optarg;
                        break;
                case '?': return -EINVAL;
                default: break;
                }
        if (optind < argc)
                return report_error(-EINVAL, "%s: unexpected argument '%s'", args->verb, argv[optind]);
        if (!args->signing_key)
                return report_error(-EINVAL, "%s: --signing-key FILE is required", args->verb);
        if (spec) {
                r = load_spec(l, spec, &err);
                if (r < 0)
                        return report_error(r, "%s: %s", args->verb, core_error_message(&err, r));
        }
        verb_getopt_reset();
        while ((c = getopt_long(argc, argv, "ho:", license_options, NULL)) >= 0) {
                if (c < ARG_ID || c >= ARG_SPEC)
                        continue;
                r = apply_field(l, c, optarg, &err);
                if (r < 0)
                        return report_error(r, "%s: %s", args->verb, core_error_message(&err, r));
        }
        if (l->issued == TIME_UNSET)
                l->issued = now_realtime();
        return 0;
}

int vendor_license_check(const char *verb, const License *l) {
        _cleanup_(license_done) License check = LICENSE_INIT;
        _cleanup_free_ char *body = NULL;
        CoreError err = {};
        size_t body_len;
        int r;

        if (!l->id)
                return report_error(-EINVAL, "%s: --id is required", verb);
        if (!l->product)
                return report_error(-EINVAL, "%s: --product is required", verb);
        if (!l->licensee)
                return report_error(-EINVAL, "%s: --licensee is required", verb);

        /* Check the document as the receiving side will, before signing it. */
        r = license_format_body(l, &body, &body_len);
        if (r < 0)
                return report_error(r,
                                    "%s: the license fields are not valid (check id, product, machine-id "
                                    "and device-key together)",
                                    verb);
        r = license_parse_body((const uint8_t *) body, body_len, &check, &err);
        if (r < 0)
                return report_error(r, "%s: %s", verb, core_error_message(&err, r));
        return 0;
}

int vendor_license_sign(const char *verb, const License *l, const char *signing_key, const char *output) {
        _cleanup_pkey_ EVP_PKEY *key = NULL;
        _cleanup_free_ char *text = NULL;
        CoreError err = {};
        int r;

        r = vendor_license_check(verb, l);
        if (r < 0)
                return r;
        r = ed25519_load_private(signing_key, &key, &err);
        if (r < 0)
                return report_error(r, "%s: %s", verb, core_error_message(&err, r));
        r = license_sign(l, key, &text);
        if (r < 0)
                return report_error(r, "%s: cannot sign: %s", verb, strerror(-r));
        return vendor_write_output(verb, output, text);
}

int vendor_license_apply_option(License *l, const char *option, const char *value, CoreError *err) {
        for (const struct option *o = license_options; o->name; o++)
                if (streq(o->name, option) && o->val >= ARG_ID && o->val < ARG_SPEC)
                        return apply_field(l, o->val, value, err);
        return core_error_set(err, EINVAL, "'%s' is not a license field", option);
}

int verb_issue(int argc, char *argv[], void *userdata) {
        _cleanup_(license_done) License l = LICENSE_INIT;
        LicenseArgs args = {.verb = "issue", .help = issue_help};
        int r;

        r = vendor_license_from_argv(argc, argv, &args, &l);
        if (r != 0)
                return r < 0 ? r : 0;
        return vendor_license_sign("issue", &l, args.signing_key, args.output);
}
