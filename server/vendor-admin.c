/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* licensed-vendor entitlement / activations / revoke / upgrade / release /
 * products: the vendor administers licensed-server either through its
 * database file (--db), which SQLite lets both use at once, or through the
 * server's admin API (--server URL, vendor-remote.c). Each verb turns its
 * options into the JSON input of one admin operation (admin-ops.h) and
 * prints the JSON answer, which is the same whichever way it was computed:
 * the output cannot differ between the two modes. The license fields take
 * the syntax of 'issue' (license-field.h). */

#include <assert.h>
#include <getopt.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>

#include "admin-ops.h"
#include "license-key.h"
#include "storage.h"
#include "table.h"
#include "timeutil.h"
#include "vendor.h"

#define CONNECT_HELP                                                                                        \
        "  --db FILE|URI              The server's database: a SQLite file (created if\n"                 \
        "                             missing) or a postgresql:// URI; or\n"                               \
        "  --server URL               the server's admin API (licensed-server), with\n"                    \
        "  --token-file FILE          an admin token (or $LICENSED_TOKEN)\n"                                \
        "  --ca-file FILE             HTTPS: trust the CAs in FILE, not the system's\n"

static const char *const entitlement_help =
        "licensed-vendor entitlement create --db FILE|URI|--server URL --product ID --licensee TEXT [--seats N] [FIELDS]\n"
        "licensed-vendor [--json] entitlement list --db FILE|URI|--server URL [--product ID] [--state active|revoked]\n"
        "                                          [--licensee TEXT]\n"
        "licensed-vendor [--json] entitlement show --db FILE|URI|--server URL --key KEY\n"
        "\n"
        "create makes a license key for licensed-server to activate and prints it.\n"
        "A machine that activates with it gets a license with these fields, bound\n"
        "to it; at most --seats machines at once (default 1). list shows the keys\n"
        "(--licensee: those whose licensee contains TEXT), show one key.\n"
        "\n" CONNECT_HELP
        "  --seats N                  Machines at once, 1-1000000 (default 1)\n"
        "  --license-key KEY          Use this key instead of a new random one\n"
        "  --product ID --licensee TEXT --type TYPE --not-before TIME --not-after TIME\n"
        "  --maintenance-until TIME --feature NAME[:limit=N,expires=TIME] --property NAME=VALUE\n"
        "  --validation-interval DURATION --grace-period DURATION --server-url URL\n"
        "                             As for 'licensed-vendor issue --help'\n"
        "  --deactivation-requires-maintenance[=yes|no]\n"
        "                             A machine may deactivate (give its seat back) only\n"
        "                             while maintenance lasts (a vendor release may always)\n"
        "  --trial-days N             The key is the product's trial offer: with --type\n"
        "                             trial, 'licensectl trial' gets it for N days, once per\n"
        "                             machine; --seats caps the trials at once\n";

static const char *const trial_help =
        "licensed-vendor [--json] trial reset --db FILE|URI|--server URL PRODUCT --machine-id ID|--hardware-id ID\n"
        "\n"
        "Lets a machine start a trial of PRODUCT again (a support case): forgets its\n"
        "trial, found by its machine id or its hardware id (or either, given both),\n"
        "and frees the seat its trial license holds. ID is the machine id that\n"
        "'licensectl status' and 'licensed-vendor activations' show, or the hardware\n"
        "id in /run/licensed/hardware-id on the machine (after a reinstall, the\n"
        "only one that finds the old trial).\n"
        "\n" CONNECT_HELP
        "  --machine-id ID            The machine id (32 hex digits)\n"
        "  --hardware-id ID           The hardware id (32 hex digits)\n";

static const char *const upgrade_help =
        "licensed-vendor upgrade --db FILE|URI|--server URL --key KEY [CHANGES]\n"
        "\n"
        "Changes what a license key grants and makes a new revision. Every machine\n"
        "that holds the key receives the new license at its next validation.\n"
        "Removals apply first, then added features, properties and the rest.\n"
        "\n" CONNECT_HELP
        "  --feature NAME[:limit=N,expires=TIME]  Add a feature, or replace one of that name\n"
        "  --remove-feature NAME      Remove a feature\n"
        "  --maintenance-until TIME   --not-after TIME   --licensee TEXT\n"
        "  --property NAME=VALUE      Add or replace a property\n"
        "  --seats N                  Machines at once\n"
        "  --deactivation-requires-maintenance[=yes|no]\n"
        "                             Deactivating needs active maintenance (or not)\n"
        "  --trial-days N             A trial offer's length in days\n";

enum {
        ARG_DB = 0x100,
        ARG_SERVER,
        ARG_TOKEN_FILE,
        ARG_CA_FILE,
        ARG_JSON,
        ARG_KEY,
        ARG_LICENSE_KEY,
        ARG_SEATS,
        ARG_MACHINE_ID,
        ARG_PROOF,
        ARG_REMOVE_FEATURE,
        ARG_FEATURE,
        ARG_PROPERTY,
        ARG_FILTER,
        ARG_POLICY_FLAG,
        ARG_TRIAL_DAYS,
        ARG_HARDWARE_ID,
        /* other license fields, by name */
        ARG_FIELD,
};

#define SEATS_MAX ADMIN_SEATS_MAX
#define EXTRA_OPTIONS_MAX 16

/* Every verb here: --db FILE|URI or --server URL [--token-file FILE], --json,
 * --help, maybe --key KEY, and its own options, which build `in`. */
typedef struct AdminVerb {
        const char *name; /* for messages: "entitlement create" */
        const char *help;
        const struct option *extra;
        size_t n_extra;
        enum { KEY_NONE, KEY_OPTIONAL, KEY_REQUIRED } key_arg;
        const char *positional; /* the name of the one argument the verb takes ("PRODUCT"), or NULL */
        /* filled in by admin_parse(): */
        const char *db;
        const char *server;
        const char *token_file;
        const char *ca_file;
        char key[LICENSE_KEY_STRING_SIZE]; /* canonical; "" if not given */
        json_object *in;                   /* the operation's input, from the options */
        const char *argument;              /* the positional argument, if the verb takes one */
} AdminVerb;

static void admin_done(AdminVerb *v) {
        json_object_put(v->in);
        v->in = NULL;
}

static int parse_seats(const char *verb, const char *v, uint32_t *ret) {
        char *end;
        unsigned long n;

        errno = 0;
        n = strtoul(v, &end, 10);
        if (errno || !*v || *end || n < 1 || n > SEATS_MAX)
                return report_error(-EINVAL, "%s: --seats: '%s' is not a number from 1 to %d", verb, v,
                                    SEATS_MAX);
        *ret = (uint32_t) n;
        return 0;
}

/* "not-after" -> "not_after": the JSON member of an option. */
static void member_name(const char *option, char *buf, size_t size) {
        snprintf(buf, size, "%s", option);
        for (char *p = buf; *p; p++)
                if (*p == '-')
                        *p = '_';
}

static void append_string(json_object *in, const char *member, const char *value) {
        json_object *a;

        if (!json_object_object_get_ex(in, member, &a)) {
                a = json_object_new_array();
                json_object_object_add(in, member, a);
        }
        json_object_array_add(a, json_object_new_string(value));
}

/* One option of a verb into v->in. */
static int add_option(AdminVerb *v, int c, const char *name, const char *value) {
        char member[64];

        switch (c) {
        case ARG_SEATS: {
                uint32_t seats = 0;
                int r = parse_seats(v->name, value, &seats);
                if (r < 0)
                        return r;
                json_object_object_add(v->in, "seats", json_object_new_int64(seats));
                return 0;
        }
        case ARG_FEATURE:
                append_string(v->in, "features", value);
                return 0;
        case ARG_POLICY_FLAG: {
                /* A flag that may say no: --NAME, --NAME=yes, --NAME=no. */
                bool on = !value || streq(value, "yes");

                if (value && !on && !streq(value, "no"))
                        return report_error(-EINVAL, "%s: --%s: '%s' is not yes or no", v->name, name, value);
                member_name(name, member, sizeof(member));
                json_object_object_add(v->in, member, json_object_new_boolean(on));
                return 0;
        }
        case ARG_TRIAL_DAYS: {
                char *end;
                unsigned long n;

                errno = 0;
                n = strtoul(value, &end, 10);
                if (errno || !*value || *end || *value == '-' || n < 1 || n > ADMIN_TRIAL_DAYS_MAX)
                        return report_error(-EINVAL, "%s: --trial-days: '%s' is not a number from 1 to %d",
                                            v->name, value, ADMIN_TRIAL_DAYS_MAX);
                json_object_object_add(v->in, "trial_days", json_object_new_int64((int64_t) n));
                return 0;
        }
        case ARG_REMOVE_FEATURE:
                append_string(v->in, "remove_features", value);
                return 0;
        case ARG_PROPERTY: {
                const char *eq = strchr(value, '=');
                json_object *p;
                _cleanup_free_ char *prop = NULL;

                if (!eq)
                        return report_error(-EINVAL, "%s: property '%s' is not NAME=VALUE", v->name, value);
                prop = strndup(value, (size_t) (eq - value));
                if (!prop)
                        return -ENOMEM;
                if (!json_object_object_get_ex(v->in, "properties", &p)) {
                        p = json_object_new_object();
                        json_object_object_add(v->in, "properties", p);
                }
                json_object_object_add(p, prop, json_object_new_string(eq + 1));
                return 0;
        }
        default: /* a field, --license-key, --machine-id, a filter: a string member */
                member_name(name, member, sizeof(member));
                json_object_object_add(v->in, member, json_object_new_string(value));
                return 0;
        }
}

/* Parses the options into v. Returns 1 to go on, 0 after --help, negative
 * on error. */
static int admin_parse(int argc, char *argv[], AdminVerb *v, VendorOptions *o) {
        static const struct option base[] = {
                {"help", no_argument, NULL, 'h'},
                {"db", required_argument, NULL, ARG_DB},
                {"server", required_argument, NULL, ARG_SERVER},
                {"token-file", required_argument, NULL, ARG_TOKEN_FILE},
                {"ca-file", required_argument, NULL, ARG_CA_FILE},
                {"json", no_argument, NULL, ARG_JSON},
        };
        static const struct option key_option = {"key", required_argument, NULL, ARG_KEY};
        struct option options[ELEMENTSOF(base) + 1 + EXTRA_OPTIONS_MAX + 1] = {};
        const char *typed = NULL;
        size_t n = ELEMENTSOF(base);
        CoreError err = {};
        int c, r, idx;

        assert(v->n_extra <= EXTRA_OPTIONS_MAX);
        memcpy(options, base, sizeof(base));
        if (v->key_arg != KEY_NONE)
                options[n++] = key_option;
        if (v->n_extra)
                memcpy(options + n, v->extra, v->n_extra * sizeof(*v->extra));
        v->in = json_object_new_object();
        if (!v->in)
                return -ENOMEM;

        verb_getopt_reset();
        while ((c = getopt_long(argc, argv, "h", options, &idx)) >= 0)
                switch (c) {
                case 'h':
                        fputs(v->help, stdout);
                        return 0;
                case ARG_DB:
                        v->db = optarg;
                        break;
                case ARG_SERVER:
                        v->server = optarg;
                        break;
                case ARG_TOKEN_FILE:
                        v->token_file = optarg;
                        break;
                case ARG_CA_FILE:
                        v->ca_file = optarg;
                        break;
                case ARG_JSON:
                        o->json = true;
                        break;
                case ARG_KEY:
                        typed = optarg;
                        break;
                case '?':
                        return -EINVAL;
                default:
                        r = add_option(v, c, options[idx].name, optarg);
                        if (r < 0)
                                return r;
                        break;
                }
        if (v->positional && optind < argc)
                v->argument = argv[optind++];
        if (optind < argc)
                return report_error(-EINVAL, "%s: unexpected argument '%s'", v->name, argv[optind]);
        if (v->positional && !v->argument)
                return report_error(-EINVAL, "%s: %s is required", v->name, v->positional);
        if (!v->db && !v->server)
                return report_error(-EINVAL,
                                    "%s: --db FILE|URI is required (the licensed-server database), or --server URL",
                                    v->name);
        if (v->db && v->server)
                return report_error(-EINVAL, "%s: --db and --server exclude each other", v->name);
        if ((v->token_file || v->ca_file) && !v->server)
                return report_error(-EINVAL, "%s: --token-file and --ca-file are for --server", v->name);
        if (!typed && v->key_arg == KEY_REQUIRED)
                return report_error(-EINVAL, "%s: --key KEY is required", v->name);
        if (typed) {
                r = license_key_normalize(typed, v->key, &err);
                if (r < 0)
                        return report_error(r, "%s: %s", v->name, core_error_message(&err, r));
        }
        return 1;
}

/* Runs the operation: op on the database, or method and path (with "%s"
 * for the key) on the server. The database is opened only now, after the
 * options are checked, so that a typo leaves no new empty database behind.
 * Prints its errors. */
static int admin_call(AdminVerb *v, AdminOp op, const char *method, const char *path_format, json_object **ret) {
        CoreError err = {};
        int r;

        if (v->server) {
                _cleanup_free_ char *token = NULL, *path = NULL;

                r = vendor_remote_token(v->token_file, &token, &err);
                if (r >= 0 && asprintf(&path, path_format, v->key) < 0)
                        r = -ENOMEM;
                if (r >= 0)
                        r = vendor_remote_call(v->server, token, v->ca_file, method, path, v->in, ret, &err);
                if (token)
                        explicit_bzero(token, strlen(token));
        } else {
                _cleanup_(storage_closep) Storage *s = NULL;

                r = storage_open(v->db, &s, &err);
                if (r >= 0)
                        r = op(s, v->key[0] ? v->key : NULL, v->in, ret, &err);
        }
        if (r < 0)
                return report_error(r, "%s: %s", v->name, core_error_message(&err, r));
        return 0;
}

/* The verbs with nothing to check between their options and the call:
 * 1 and *ret with the answer, 0 after --help, negative on error. */
static int admin_run(AdminVerb *v, int argc, char *argv[], VendorOptions *o, AdminOp op, const char *method,
                     const char *path_format, json_object **ret) {
        int r = admin_parse(argc, argv, v, o);

        if (r <= 0)
                return r;
        r = admin_call(v, op, method, path_format, ret);
        return r < 0 ? r : 1;
}

static void print_json(json_object *o) {
        puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
}

/* A member of a record, as text for a table. */
static const char *text(json_object *o, const char *name) {
        json_object *v;

        if (!json_object_object_get_ex(o, name, &v) || !v)
                return NULL;
        return json_object_get_string(v);
}

static int64_t number(json_object *o, const char *name) {
        return json_object_get_int64(json_object_object_get(o, name));
}

static void feature_list(json_object *e, char *buf, size_t size) {
        json_object *f = json_object_object_get(e, "features");
        size_t n = 0;

        buf[0] = 0;
        for (size_t i = 0; i < json_object_array_length(f) && n < size; i++)
                n += (size_t) snprintf(buf + n, size - n, "%s%s", i ? "," : "",
                                       text(json_object_array_get_idx(f, i), "name"));
        if (!buf[0])
                snprintf(buf, size, "-");
}

/* The tables of the list verbs (util/table.h: widths in characters, so a
 * licensee "Müller GmbH" lines up and nothing is cut). */
static int print_entitlement_table(json_object *list) {
        _cleanup_(table_freep) Table *t = table_new("KEY", "PRODUCT", "LICENSEE", "SEATS", "REV", "STATE", "FEATURES",
                                                    NULL);
        int r = t ? 0 : -ENOMEM;

        for (size_t i = 0; r >= 0 && i < json_object_array_length(list); i++) {
                json_object *e = json_object_array_get_idx(list, i);
                char features[256];

                feature_list(e, features, sizeof(features));
                r = table_add_cell(t, text(e, "license_key"), NULL);
                if (r >= 0)
                        r = table_add_cell(t, text(e, "product"), NULL);
                if (r >= 0)
                        r = table_add_cell(t, text(e, "licensee"), NULL);
                if (r >= 0)
                        r = table_add_cellf(t, "%" PRId64 "/%" PRId64, number(e, "active"), number(e, "seats"));
                if (r >= 0)
                        r = table_add_cellf(t, "%" PRId64, number(e, "revision"));
                if (r >= 0)
                        r = table_add_cell(t, json_object_get_boolean(json_object_object_get(e, "revoked"))
                                                      ? "revoked"
                                                      : "active",
                                           NULL);
                if (r >= 0)
                        r = table_add_cell(t, features, NULL);
        }
        return r < 0 ? r : table_print(t, stdout, true, NULL);
}

static int print_activation_table(json_object *list) {
        _cleanup_(table_freep) Table *t = table_new("LICENSE", "KEY", "MACHINE", "HOSTNAME", "REV", "ACTIVATED",
                                                    "LAST SEEN", "STATE", NULL);
        int r = t ? 0 : -ENOMEM;

        for (size_t i = 0; r >= 0 && i < json_object_array_length(list); i++) {
                json_object *a = json_object_array_get_idx(list, i);
                const char *released = text(a, "released");

                r = table_add_cell(t, text(a, "license_id"), NULL);
                if (r >= 0)
                        r = table_add_cell(t, text(a, "license_key"), NULL);
                if (r >= 0)
                        r = table_add_cell(t, text(a, "machine_id"), NULL);
                if (r >= 0)
                        r = table_add_cell(t, text(a, "hostname") ?: "-", NULL);
                if (r >= 0)
                        r = table_add_cellf(t, "%" PRId64, number(a, "revision"));
                if (r >= 0)
                        r = table_add_cell(t, text(a, "activated"), NULL);
                if (r >= 0)
                        r = table_add_cell(t, text(a, "last_seen"), NULL);
                if (r >= 0)
                        r = released ? table_add_cellf(t, "released %s", released) : table_add_cell(t, "active", NULL);
        }
        return r < 0 ? r : table_print(t, stdout, true, NULL);
}

static int print_product_table(json_object *list) {
        _cleanup_(table_freep) Table *t = table_new("PRODUCT", "KEYS", "ACTIVE", NULL);
        int r = t ? 0 : -ENOMEM;

        for (size_t i = 0; r >= 0 && i < json_object_array_length(list); i++) {
                json_object *p = json_object_array_get_idx(list, i);

                r = table_add_cell(t, text(p, "product"), NULL);
                if (r >= 0)
                        r = table_add_cellf(t, "%" PRId64, number(p, "entitlements"));
                if (r >= 0)
                        r = table_add_cellf(t, "%" PRId64, number(p, "active"));
        }
        return r < 0 ? r : table_print(t, stdout, true, NULL);
}

/* A list answer: the array in member, as JSON or a table. */
static int print_list(AdminVerb *v, VendorOptions *o, json_object *answer, const char *member,
                      int (*print_table)(json_object *list)) {
        json_object *list = json_object_object_get(answer, member);
        int r;

        if (o->json) {
                print_json(list);
                return 0;
        }
        r = print_table(list);
        return r < 0 ? report_error(r, "%s: %m", v->name) : 0;
}

/* entitlement create */
/* Allowed (a machine that never reaches a network), but the vendor should
 * know what is given up: said when an entitlement gets it (issue says the
 * same, vendor_license_check()). */
static void warn_never_validates(const char *verb, json_object *entitlement) {
        json_object *v;

        if (json_object_object_get_ex(entitlement, "validation_interval", &v) && json_object_get_int64(v) == 0)
                report_error(0,
                             "%s: warning: --validation-interval 0: this license never validates, so the "
                             "machine holding it can never learn that it was revoked or that its seat was "
                             "released; only its expiry ends it",
                             verb);
}

static int entitlement_create(int argc, char *argv[], VendorOptions *o) {
        /* The license fields of 'issue' that make sense before a machine is known. */
        static const struct option extra[] = {
                {"seats", required_argument, NULL, ARG_SEATS},
                {"license-key", required_argument, NULL, ARG_LICENSE_KEY},
                {"product", required_argument, NULL, ARG_FIELD},
                {"licensee", required_argument, NULL, ARG_FIELD},
                {"type", required_argument, NULL, ARG_FIELD},
                {"not-before", required_argument, NULL, ARG_FIELD},
                {"not-after", required_argument, NULL, ARG_FIELD},
                {"maintenance-until", required_argument, NULL, ARG_FIELD},
                {"feature", required_argument, NULL, ARG_FEATURE},
                {"property", required_argument, NULL, ARG_PROPERTY},
                {"validation-interval", required_argument, NULL, ARG_FIELD},
                {"grace-period", required_argument, NULL, ARG_FIELD},
                {"server-url", required_argument, NULL, ARG_FIELD},
                {"deactivation-requires-maintenance", optional_argument, NULL, ARG_POLICY_FLAG},
                {"trial-days", required_argument, NULL, ARG_TRIAL_DAYS},
        };
        _cleanup_(admin_done) AdminVerb v = {
                .name = "entitlement create",
                .help = entitlement_help,
                .extra = extra,
                .n_extra = ELEMENTSOF(extra),
        };
        json_object *answer = NULL;
        int r;

        r = admin_parse(argc, argv, &v, o);
        if (r <= 0)
                return r;
        if (!json_object_object_get_ex(v.in, "product", NULL))
                return report_error(-EINVAL, "%s: --product is required", v.name);
        if (!json_object_object_get_ex(v.in, "licensee", NULL))
                return report_error(-EINVAL, "%s: --licensee is required", v.name);
        r = admin_call(&v, admin_entitlement_create, "POST", "/v1/admin/entitlements", &answer);
        if (r < 0)
                return r;
        warn_never_validates(v.name, answer);
        if (o->json)
                print_json(answer); /* as stored, with its dates and counts */
        else
                puts(text(answer, "license_key"));
        json_object_put(answer);
        return 0;
}

/* entitlement list: every page. */
static int entitlement_list(int argc, char *argv[], VendorOptions *o) {
        static const struct option extra[] = {
                {"product", required_argument, NULL, ARG_FILTER},
                {"state", required_argument, NULL, ARG_FILTER},
                {"licensee", required_argument, NULL, ARG_FILTER},
        };
        _cleanup_(admin_done) AdminVerb v = {
                .name = "entitlement list",
                .help = entitlement_help,
                .extra = extra,
                .n_extra = ELEMENTSOF(extra),
        };
        json_object *all = NULL, *answer = NULL;
        const char *next;
        int r;

        r = admin_parse(argc, argv, &v, o);
        if (r <= 0)
                return r;
        json_object_object_add(v.in, "limit", json_object_new_int(ADMIN_LIST_LIMIT_MAX));
        all = json_object_new_object();
        json_object_object_add(all, "entitlements", json_object_new_array());
        do {
                json_object *page;

                r = admin_call(&v, admin_entitlement_list, "GET", "/v1/admin/entitlements", &answer);
                if (r < 0) {
                        json_object_put(all);
                        return r;
                }
                page = json_object_object_get(answer, "entitlements");
                for (size_t i = 0; i < json_object_array_length(page); i++)
                        json_object_array_add(json_object_object_get(all, "entitlements"),
                                              json_object_get(json_object_array_get_idx(page, i)));
                next = text(answer, "next_cursor");
                if (next)
                        json_object_object_add(v.in, "cursor", json_object_new_string(next));
                json_object_put(answer);
        } while (next);
        r = print_list(&v, o, all, "entitlements", print_entitlement_table);
        json_object_put(all);
        return r;
}

static void print_entitlement(json_object *e) {
        char features[256], trial[64] = "";

        if (number(e, "trial_days") > 0)
                snprintf(trial, sizeof(trial), "      Trial: %" PRId64 " days per machine, once\n",
                         number(e, "trial_days"));

        feature_list(e, features, sizeof(features));
        printf("License key: %s\n"
               "    Product: %s\n"
               "   Licensee: %s\n"
               "       Type: %s\n"
               "      State: %s\n"
               "      Seats: %" PRId64 " of %" PRId64 " in use\n"
               "   Revision: %" PRId64 "\n"
               "   Features: %s\n"
               "  Not after: %s\n"
               "Maintenance: %s\n"
               "%s"
               "%s"
               "    Created: %s\n"
               "    Updated: %s\n",
               text(e, "license_key"), text(e, "product"), text(e, "licensee"), text(e, "type"),
               json_object_get_boolean(json_object_object_get(e, "revoked")) ? "revoked" : "active",
               number(e, "active"), number(e, "seats"), number(e, "revision"), features,
               text(e, "not_after") ?: "-", text(e, "maintenance_until") ?: "-",
               json_object_get_boolean(json_object_object_get(e, "deactivation_requires_maintenance"))
                       ? "     Policy: deactivation requires maintenance\n"
                       : "",
               trial, text(e, "created"), text(e, "updated"));
}

/* entitlement show --key K */
static int entitlement_show(int argc, char *argv[], VendorOptions *o) {
        _cleanup_(admin_done) AdminVerb v = {
                .name = "entitlement show",
                .help = entitlement_help,
                .key_arg = KEY_REQUIRED,
        };
        json_object *answer = NULL;
        int r;

        r = admin_run(&v, argc, argv, o, admin_entitlement_show, "GET", "/v1/admin/entitlements/%s", &answer);
        if (r <= 0)
                return r;
        if (o->json)
                print_json(answer);
        else
                print_entitlement(answer);
        json_object_put(answer);
        return 0;
}

int verb_entitlement(int argc, char *argv[], void *userdata) {
        static const VendorSubverb table[] = {
                {"create", entitlement_create},
                {"list", entitlement_list},
                {"show", entitlement_show},
        };
        return vendor_subverb("entitlement", table, ELEMENTSOF(table), entitlement_help, argc, argv, userdata);
}

/* activations [--key K] */
int verb_activations(int argc, char *argv[], void *userdata) {
        VendorOptions *o = userdata;
        _cleanup_(admin_done) AdminVerb v = {
                .name = "activations",
                .help = "licensed-vendor [--json] activations --db FILE|URI|--server URL [--key KEY]\n\n"
                        "Lists the machines that activated a key (or any key), released ones included.\n\n"
                        CONNECT_HELP,
                .key_arg = KEY_OPTIONAL,
        };
        json_object *answer = NULL;
        int r;

        r = admin_parse(argc, argv, &v, o);
        if (r <= 0)
                return r;
        r = admin_call(&v, admin_activation_list, "GET",
                       v.key[0] ? "/v1/admin/entitlements/%s/activations" : "/v1/admin/activations", &answer);
        if (r < 0)
                return r;
        r = print_list(&v, o, answer, "activations", print_activation_table);
        json_object_put(answer);
        return r;
}

/* products */
int verb_products(int argc, char *argv[], void *userdata) {
        VendorOptions *o = userdata;
        _cleanup_(admin_done) AdminVerb v = {
                .name = "products",
                .help = "licensed-vendor [--json] products --db FILE|URI|--server URL\n\n"
                        "Lists the products the server has license keys for, with how many keys\n"
                        "and how many machines hold a seat.\n\n" CONNECT_HELP,
        };
        json_object *answer = NULL;
        int r;

        r = admin_run(&v, argc, argv, o, admin_product_list, "GET", "/v1/admin/products", &answer);
        if (r <= 0)
                return r;
        r = print_list(&v, o, answer, "products", print_product_table);
        json_object_put(answer);
        return r;
}

/* revoke --key K */
int verb_revoke(int argc, char *argv[], void *userdata) {
        _cleanup_(admin_done) AdminVerb v = {
                .name = "revoke",
                .help = "licensed-vendor revoke --db FILE|URI|--server URL --key KEY\n\n"
                        "Revokes a license key: no new activations, and every machine that holds it\n"
                        "hears 'revoked' at its next validation.\n\n" CONNECT_HELP,
                .key_arg = KEY_REQUIRED,
        };
        json_object *answer = NULL;
        int r;

        r = admin_run(&v, argc, argv, userdata, admin_entitlement_revoke, "POST", "/v1/admin/entitlements/%s/revoke",
                      &answer);
        if (r <= 0)
                return r;
        json_object_put(answer);
        printf("%s: revoked; machines learn it at their next validation\n", v.key);
        return 0;
}

/* upgrade --key K [changes] */
int verb_upgrade(int argc, char *argv[], void *userdata) {
        static const struct option extra[] = {
                {"seats", required_argument, NULL, ARG_SEATS},
                {"remove-feature", required_argument, NULL, ARG_REMOVE_FEATURE},
                {"feature", required_argument, NULL, ARG_FEATURE},
                {"property", required_argument, NULL, ARG_PROPERTY},
                {"maintenance-until", required_argument, NULL, ARG_FIELD},
                {"not-after", required_argument, NULL, ARG_FIELD},
                {"licensee", required_argument, NULL, ARG_FIELD},
                {"deactivation-requires-maintenance", optional_argument, NULL, ARG_POLICY_FLAG},
                {"trial-days", required_argument, NULL, ARG_TRIAL_DAYS},
        };
        _cleanup_(admin_done) AdminVerb v = {
                .name = "upgrade",
                .help = upgrade_help,
                .extra = extra,
                .n_extra = ELEMENTSOF(extra),
                .key_arg = KEY_REQUIRED,
        };
        json_object *answer = NULL;
        int64_t revision;
        int r;

        r = admin_parse(argc, argv, &v, userdata);
        if (r <= 0)
                return r;
        if (json_object_object_length(v.in) == 0)
                return report_error(-EINVAL,
                                    "upgrade: nothing to change (see 'licensed-vendor upgrade --help')");
        r = admin_call(&v, admin_entitlement_upgrade, "POST", "/v1/admin/entitlements/%s/upgrade", &answer);
        if (r < 0)
                return r;
        revision = number(answer, "revision");
        if (json_object_object_get_ex(v.in, "validation_interval", NULL))
                warn_never_validates(v.name, answer);
        json_object_put(answer);
        printf("%s: revision %" PRId64 " -> %" PRId64 "; machines receive it at their next validation\n", v.key,
               revision - 1, revision);
        return 0;
}

/* release --key K --machine-id M | --proof FILE */
int verb_release(int argc, char *argv[], void *userdata) {
        static const struct option extra[] = {
                {"machine-id", required_argument, NULL, ARG_MACHINE_ID},
                {"proof", required_argument, NULL, ARG_PROOF},
        };
        _cleanup_(admin_done) AdminVerb v = {
                .name = "release",
                .help = "licensed-vendor release --db FILE|URI|--server URL --key KEY --machine-id MACHINE|--proof FILE\n\n"
                        "Frees the seat a machine holds (a lost or broken machine), so another\n"
                        "can activate. If the machine comes back, it hears 'revoked' at its next\n"
                        "validation. MACHINE is the id 'licensed-vendor activations' shows; FILE\n"
                        "a deactivation proof the machine made offline ('-': stdin).\n\n" CONNECT_HELP,
                .extra = extra,
                .n_extra = ELEMENTSOF(extra),
                .key_arg = KEY_REQUIRED,
        };
        json_object *answer = NULL, *proof;
        int64_t n;
        int r;

        r = admin_parse(argc, argv, &v, userdata);
        if (r <= 0)
                return r;
        if (json_object_object_get_ex(v.in, "proof", &proof)) {
                _cleanup_free_ char *doc = NULL;
                size_t len;

                r = vendor_read_document(v.name, json_object_get_string(proof), &doc, &len);
                if (r < 0)
                        return r;
                json_object_object_add(v.in, "proof", json_object_new_string(doc));
        }
        if (json_object_object_length(v.in) != 1)
                return report_error(-EINVAL, "release: --machine-id MACHINE or --proof FILE is required (one of them)");
        r = admin_call(&v, admin_release, "POST", "/v1/admin/entitlements/%s/release", &answer);
        if (r < 0)
                return r;
        n = number(answer, "released");
        printf("%s: released %" PRId64 " seat%s of machine %s\n", v.key, n, n == 1 ? "" : "s",
               text(answer, "machine_id"));
        json_object_put(answer);
        return 0;
}

/* trial reset PRODUCT --machine-id ID | --hardware-id ID */
static int trial_reset(int argc, char *argv[], VendorOptions *o) {
        static const struct option extra[] = {
                {"machine-id", required_argument, NULL, ARG_MACHINE_ID},
                {"hardware-id", required_argument, NULL, ARG_HARDWARE_ID},
        };
        _cleanup_(admin_done) AdminVerb v = {
                .name = "trial reset",
                .help = trial_help,
                .extra = extra,
                .n_extra = ELEMENTSOF(extra),
                .positional = "PRODUCT",
        };
        json_object *answer = NULL;
        int64_t trials, released;
        int r;

        r = admin_parse(argc, argv, &v, o);
        if (r <= 0)
                return r;
        if (json_object_object_length(v.in) == 0)
                return report_error(-EINVAL, "trial reset: --machine-id ID or --hardware-id ID is required (or both)");
        json_object_object_add(v.in, "product", json_object_new_string(v.argument));
        r = admin_call(&v, admin_trial_reset, "POST", "/v1/admin/trials/reset", &answer);
        if (r < 0)
                return r;
        if (o->json)
                print_json(answer);
        else {
                trials = number(answer, "trials");
                released = number(answer, "released");
                printf("%s: forgot %" PRId64 " trial%s of %s and freed %" PRId64 " seat%s of its trial license; "
                       "it can start a new trial\n",
                       text(answer, "machine_id") ?: text(answer, "hardware_id"), trials, trials == 1 ? "" : "s",
                       v.argument, released, released == 1 ? "" : "s");
        }
        json_object_put(answer);
        return 0;
}

int verb_trial(int argc, char *argv[], void *userdata) {
        static const VendorSubverb table[] = {
                {"reset", trial_reset},
        };
        return vendor_subverb("trial", table, ELEMENTSOF(table), trial_help, argc, argv, userdata);
}
