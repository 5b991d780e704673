/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* licensed-vendor entitlement / activations / revoke / upgrade / release
 * (a lost machine's seats, or the seat a deactivation proof gives up):
 * the vendor administers licensed-server through its database
 * (--db: a SQLite file or a PostgreSQL URI), which both may use at once
 * (storage.h). The license
 * fields take the syntax of 'issue' (vendor_license_apply_option). */

#include <assert.h>
#include <getopt.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>

#include "license-json.h"
#include "license-key.h"
#include "request.h"
#include "storage.h"
#include "table.h"
#include "timeutil.h"
#include "vendor.h"

static const char *const entitlement_help =
        "licensed-vendor entitlement create --db FILE|URI --product ID --licensee TEXT [--seats N] [FIELDS]\n"
        "licensed-vendor [--json] entitlement list --db FILE|URI\n"
        "\n"
        "create makes a license key for licensed-server to activate and prints it.\n"
        "A machine that activates with it gets a license with these fields, bound\n"
        "to it; at most --seats machines at once (default 1).\n"
        "\n"
        "  --db FILE|URI              The server's database: a SQLite file (created if\n"
        "                             missing) or a postgresql:// URI\n"
        "  --seats N                  Machines at once, 1-1000000 (default 1)\n"
        "  --license-key KEY          Use this key instead of a new random one\n"
        "  --product ID --licensee TEXT --type TYPE --not-before TIME --not-after TIME\n"
        "  --maintenance-until TIME --feature NAME[:limit=N,expires=TIME] --property NAME=VALUE\n"
        "  --validation-interval DURATION --grace-period DURATION --server-url URL\n"
        "                             As for 'licensed-vendor issue --help'\n";

static const char *const upgrade_help =
        "licensed-vendor upgrade --db FILE|URI --key KEY [CHANGES]\n"
        "\n"
        "Changes what a license key grants and makes a new revision. Every machine\n"
        "that holds the key receives the new license at its next validation.\n"
        "\n"
        "  --feature NAME[:limit=N,expires=TIME]  Add a feature, or replace one of that name\n"
        "  --remove-feature NAME      Remove a feature\n"
        "  --maintenance-until TIME   --not-after TIME   --licensee TEXT\n"
        "  --property NAME=VALUE      Add or replace a property\n"
        "  --seats N                  Machines at once\n";

enum {
        ARG_DB = 0x100,
        ARG_JSON,
        ARG_KEY,
        ARG_LICENSE_KEY,
        ARG_SEATS,
        ARG_MACHINE_ID,
        ARG_PROOF,
        ARG_REMOVE_FEATURE,
        /* license fields, applied by name */
        ARG_FIELD,
};

#define SEATS_MAX 1000000
#define EXTRA_OPTIONS_MAX 16

/* Every verb here: --db FILE|URI, --json, --help, maybe --key KEY, and its own
 * options, which go to on_option in command-line order. */
typedef struct AdminVerb {
        const char *name; /* for messages: "entitlement create" */
        const char *help;
        const struct option *extra;
        size_t n_extra;
        enum { KEY_NONE, KEY_OPTIONAL, KEY_REQUIRED } key_arg;
        int (*on_option)(int c, const char *name, const char *value, void *userdata);
        void *userdata;
        bool open_later; /* the verb calls admin_open() itself, after more checks */
        /* filled in by admin_parse(): */
        const char *db;
        char key[LICENSE_KEY_STRING_SIZE]; /* canonical; "" if not given */
        Storage *storage;                  /* by admin_open() */
} AdminVerb;

static void admin_done(AdminVerb *v) {
        v->storage = storage_close(v->storage);
}

static int normalize_key(const char *verb, const char *typed, char out[static LICENSE_KEY_STRING_SIZE]) {
        CoreError err = {};
        int r;

        r = license_key_normalize(typed, out, &err);
        if (r < 0)
                return report_error(r, "%s: %s", verb, core_error_message(&err, r));
        return 0;
}

/* Opens the database: after the options are checked, so that a typo does
 * not leave a new empty database behind. */
static int admin_open(AdminVerb *v) {
        CoreError err = {};
        int r;

        r = storage_open(v->db, &v->storage, &err);
        if (r < 0)
                return report_error(r, "%s: %s", v->name, core_error_message(&err, r));
        return 0;
}

/* Parses the options and opens the database (unless open_later). Returns 1
 * to go on, 0 after --help, negative on error. */
static int admin_parse(int argc, char *argv[], AdminVerb *v, VendorOptions *o) {
        static const struct option base[] = {
                {"help", no_argument, NULL, 'h'},
                {"db", required_argument, NULL, ARG_DB},
                {"json", no_argument, NULL, ARG_JSON},
        };
        static const struct option key_option = {"key", required_argument, NULL, ARG_KEY};
        struct option options[ELEMENTSOF(base) + 1 + EXTRA_OPTIONS_MAX + 1] = {};
        const char *typed = NULL;
        size_t n = ELEMENTSOF(base);
        int c, r, idx;

        assert(v->n_extra <= EXTRA_OPTIONS_MAX);
        memcpy(options, base, sizeof(base));
        if (v->key_arg != KEY_NONE)
                options[n++] = key_option;
        if (v->n_extra)
                memcpy(options + n, v->extra, v->n_extra * sizeof(*v->extra));

        verb_getopt_reset();
        while ((c = getopt_long(argc, argv, "h", options, &idx)) >= 0)
                switch (c) {
                case 'h':
                        fputs(v->help, stdout);
                        return 0;
                case ARG_DB:
                        v->db = optarg;
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
                        r = v->on_option(c, options[idx].name, optarg, v->userdata);
                        if (r < 0)
                                return r;
                        break;
                }
        if (optind < argc)
                return report_error(-EINVAL, "%s: unexpected argument '%s'", v->name, argv[optind]);
        if (!v->db)
                return report_error(-EINVAL,
                                    "%s: --db FILE|URI is required (the licensed-server database)",
                                    v->name);
        if (!typed && v->key_arg == KEY_REQUIRED)
                return report_error(-EINVAL, "%s: --key KEY is required", v->name);
        if (typed) {
                r = normalize_key(v->name, typed, v->key);
                if (r < 0)
                        return r;
        }
        if (!v->open_later) {
                r = admin_open(v);
                if (r < 0)
                        return r;
        }
        return 1;
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

static void print_json(json_object *o) {
        puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
        json_object_put(o);
}

static void add_time(json_object *o, const char *name, int64_t t) {
        char buf[RFC3339_MAX];

        json_object_object_add(o, name,
                               t != TIME_UNSET ? json_object_new_string(time_format_rfc3339(t, buf)) : NULL);
}

static json_object *entitlement_to_json(const Entitlement *e) {
        json_object *o = license_to_json(&e->license);

        json_object_object_add(o, "license_key", json_object_new_string(e->key));
        json_object_object_add(o, "seats", json_object_new_int64(e->seats));
        json_object_object_add(o, "active", json_object_new_int64(e->active));
        json_object_object_add(o, "revoked", json_object_new_boolean(e->revoked));
        add_time(o, "created", e->created);
        add_time(o, "updated", e->updated);
        return o;
}

static json_object *activation_to_json(const Activation *a) {
        json_object *o = json_object_new_object();

        json_object_object_add(o, "license_id", json_object_new_string(a->license_id));
        json_object_object_add(o, "license_key", json_object_new_string(a->key));
        json_object_object_add(o, "machine_id", json_object_new_string(a->machine_id));
        json_object_object_add(o, "device_key", json_object_new_string(a->device_key));
        json_object_object_add(o, "hostname", a->hostname ? json_object_new_string(a->hostname) : NULL);
        json_object_object_add(o, "revision", json_object_new_int64(a->revision));
        add_time(o, "activated", a->activated);
        add_time(o, "last_seen", a->last_seen);
        add_time(o, "released", a->released);
        json_object_object_add(o, "active", json_object_new_boolean(a->released == TIME_UNSET));
        return o;
}

/* Checks an entitlement's template as the license it will become. */
static int check_template(const char *verb, License *l) {
        int r;

        l->id = strdup("entitlement");
        if (!l->id)
                return -ENOMEM;
        l->issued = now_realtime();
        r = vendor_license_check(verb, l);
        free(l->id);
        l->id = NULL;
        l->issued = TIME_UNSET;
        return r;
}

/* entitlement create */

typedef struct CreateArgs {
        Entitlement *e;
        const char *license_key;
} CreateArgs;

static int create_option(int c, const char *name, const char *value, void *userdata) {
        CreateArgs *a = userdata;
        CoreError err = {};
        int r;

        if (c == ARG_SEATS)
                return parse_seats("entitlement create", value, &a->e->seats);
        if (c == ARG_LICENSE_KEY) {
                a->license_key = value;
                return 0;
        }
        r = vendor_license_apply_option(&a->e->license, name, value, &err);
        if (r < 0)
                return report_error(r, "entitlement create: %s", core_error_message(&err, r));
        return 0;
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
                {"feature", required_argument, NULL, ARG_FIELD},
                {"property", required_argument, NULL, ARG_FIELD},
                {"validation-interval", required_argument, NULL, ARG_FIELD},
                {"grace-period", required_argument, NULL, ARG_FIELD},
                {"server-url", required_argument, NULL, ARG_FIELD},
        };
        _cleanup_(entitlement_done) Entitlement e = ENTITLEMENT_INIT;
        _cleanup_(entitlement_done) Entitlement stored = ENTITLEMENT_INIT;
        CreateArgs args = {.e = &e};
        _cleanup_(admin_done) AdminVerb v = {
                .name = "entitlement create",
                .help = entitlement_help,
                .extra = extra,
                .n_extra = ELEMENTSOF(extra),
                .on_option = create_option,
                .userdata = &args,
                .open_later = true,
        };
        CoreError err = {};
        int r;

        e.seats = 1;
        e.license.type = LICENSE_PERPETUAL;
        e.license.revision = 1;
        r = admin_parse(argc, argv, &v, o);
        if (r <= 0)
                return r;
        r = args.license_key ? normalize_key(v.name, args.license_key, e.key) : license_key_generate(e.key);
        if (r >= 0)
                r = check_template(v.name, &e.license);
        if (r >= 0)
                r = admin_open(&v);
        if (r < 0)
                return r;
        r = storage_entitlement_create(v.storage, &e, &err);
        if (r >= 0 && o->json)
                /* As stored, with its dates and counts. */
                r = storage_entitlement_get(v.storage, e.key, &stored, &err);
        if (r < 0)
                return report_error(r, "%s: %s", v.name, core_error_message(&err, r));
        if (o->json)
                print_json(entitlement_to_json(&stored));
        else
                puts(e.key);
        return 0;
}

static void feature_list(const License *l, char *buf, size_t size) {
        size_t n = 0;

        buf[0] = 0;
        for (size_t i = 0; i < l->n_features && n < size; i++)
                n += (size_t) snprintf(buf + n, size - n, "%s%s", i ? "," : "", l->features[i].name);
        if (!buf[0])
                snprintf(buf, size, "-");
}

/* A list as a JSON array of to_json(element). */
static void print_json_array(const void *list, size_t n, size_t size,
                             json_object *(*to_json)(const void *) ) {
        json_object *a = json_object_new_array();

        for (size_t i = 0; i < n; i++)
                json_object_array_add(a, to_json((const char *) list + i * size));
        print_json(a);
}

static json_object *entitlement_to_json_cb(const void *e) {
        return entitlement_to_json(e);
}

static json_object *activation_to_json_cb(const void *a) {
        return activation_to_json(a);
}

/* entitlement list */
/* The tables of the list verbs (util/table.h: widths in characters, so a
 * licensee "Müller GmbH" lines up and nothing is cut). */
static int print_entitlement_table(const Entitlement *list, size_t n) {
        _cleanup_(table_freep) Table *t = table_new("KEY", "PRODUCT", "LICENSEE", "SEATS", "REV", "STATE", "FEATURES",
                                                    NULL);
        int r = t ? 0 : -ENOMEM;

        for (size_t i = 0; r >= 0 && i < n; i++) {
                char features[256];

                feature_list(&list[i].license, features, sizeof(features));
                r = table_add_cell(t, list[i].key, NULL);
                if (r >= 0)
                        r = table_add_cell(t, list[i].license.product, NULL);
                if (r >= 0)
                        r = table_add_cell(t, list[i].license.licensee, NULL);
                if (r >= 0)
                        r = table_add_cellf(t, "%" PRIu32 "/%" PRIu32, list[i].active, list[i].seats);
                if (r >= 0)
                        r = table_add_cellf(t, "%" PRIu32, list[i].license.revision);
                if (r >= 0)
                        r = table_add_cell(t, list[i].revoked ? "revoked" : "active", NULL);
                if (r >= 0)
                        r = table_add_cell(t, features, NULL);
        }
        return r < 0 ? r : table_print(t, stdout, true, NULL);
}

static int print_activation_table(const Activation *list, size_t n) {
        _cleanup_(table_freep) Table *t = table_new("LICENSE", "KEY", "MACHINE", "HOSTNAME", "REV", "ACTIVATED",
                                                    "LAST SEEN", "STATE", NULL);
        int r = t ? 0 : -ENOMEM;

        for (size_t i = 0; r >= 0 && i < n; i++) {
                const Activation *a = &list[i];
                char t1[RFC3339_MAX], t2[RFC3339_MAX], t3[RFC3339_MAX];

                r = table_add_cell(t, a->license_id, NULL);
                if (r >= 0)
                        r = table_add_cell(t, a->key, NULL);
                if (r >= 0)
                        r = table_add_cell(t, a->machine_id, NULL);
                if (r >= 0)
                        r = table_add_cell(t, a->hostname ?: "-", NULL);
                if (r >= 0)
                        r = table_add_cellf(t, "%" PRIu32, a->revision);
                if (r >= 0)
                        r = table_add_cell(t, time_format_rfc3339(a->activated, t1), NULL);
                if (r >= 0)
                        r = table_add_cell(t, time_format_rfc3339(a->last_seen, t2), NULL);
                if (r >= 0)
                        r = a->released ? table_add_cellf(t, "released %s", time_format_rfc3339(a->released, t3))
                                        : table_add_cell(t, "active", NULL);
        }
        return r < 0 ? r : table_print(t, stdout, true, NULL);
}

static int entitlement_list(int argc, char *argv[], VendorOptions *o) {
        _cleanup_(admin_done) AdminVerb v = {.name = "entitlement list", .help = entitlement_help};
        Entitlement *list = NULL;
        CoreError err = {};
        size_t n = 0;
        int r;

        r = admin_parse(argc, argv, &v, o);
        if (r <= 0)
                return r;
        r = storage_entitlement_list(v.storage, &list, &n, &err);
        if (r < 0)
                return report_error(r, "%s: %s", v.name, core_error_message(&err, r));

        if (o->json)
                print_json_array(list, n, sizeof(*list), entitlement_to_json_cb);
        else {
                r = print_entitlement_table(list, n);
                if (r < 0)
                        return report_error(r, "%s: %m", v.name);
        }
        entitlement_array_free(list, n);
        return 0;
}

int verb_entitlement(int argc, char *argv[], void *userdata) {
        if (streq(argv[1], "create"))
                return entitlement_create(argc - 1, argv + 1, userdata);
        if (streq(argv[1], "list"))
                return entitlement_list(argc - 1, argv + 1, userdata);
        if (streq(argv[1], "-h") || streq(argv[1], "--help")) {
                fputs(entitlement_help, stdout);
                return 0;
        }
        return report_error(-EINVAL, "entitlement: unknown subcommand '%s' (create or list)", argv[1]);
}

/* activations [--key K] */
int verb_activations(int argc, char *argv[], void *userdata) {
        VendorOptions *o = userdata;
        _cleanup_(admin_done) AdminVerb v = {
                .name = "activations",
                .help = "licensed-vendor [--json] activations --db FILE|URI [--key KEY]\n\n"
                        "Lists the machines that activated a key (or any key), released ones included.\n",
                .key_arg = KEY_OPTIONAL,
        };
        Activation *list = NULL;
        CoreError err = {};
        size_t n = 0;
        int r;

        r = admin_parse(argc, argv, &v, o);
        if (r <= 0)
                return r;
        r = storage_activation_list(v.storage, v.key[0] ? v.key : NULL, &list, &n, &err);
        if (r < 0)
                return report_error(r, "%s: %s", v.name, core_error_message(&err, r));

        if (o->json)
                print_json_array(list, n, sizeof(*list), activation_to_json_cb);
        else {
                r = print_activation_table(list, n);
                if (r < 0)
                        return report_error(r, "%s: %m", v.name);
        }
        activation_array_free(list, n);
        return 0;
}

/* revoke --key K */
int verb_revoke(int argc, char *argv[], void *userdata) {
        _cleanup_(admin_done) AdminVerb v = {
                .name = "revoke",
                .help = "licensed-vendor revoke --db FILE|URI --key KEY\n\n"
                        "Revokes a license key: no new activations, and every machine that holds it\n"
                        "hears 'revoked' at its next validation.\n",
                .key_arg = KEY_REQUIRED,
        };
        CoreError err = {};
        int r;

        r = admin_parse(argc, argv, &v, userdata);
        if (r <= 0)
                return r;
        r = storage_entitlement_revoke(v.storage, v.key, &err);
        if (r < 0)
                return report_error(r, "%s: %s", v.name, core_error_message(&err, r));
        printf("%s: revoked; machines learn it at their next validation\n", v.key);
        return 0;
}

/* upgrade --key K [changes]: the changes are collected first and applied
 * to the entitlement as stored, in command-line order. */

typedef struct Change {
        int c;
        const char *name;
        const char *value;
} Change;

typedef struct Changes {
        Change *v;
        size_t n;
} Changes;

static int collect_change(int c, const char *name, const char *value, void *userdata) {
        Changes *ch = userdata;

        ch->v[ch->n++] = (Change){c, name, value};
        return 0;
}

static bool remove_feature(License *l, const char *name) {
        for (size_t i = 0; i < l->n_features; i++)
                if (streq(l->features[i].name, name)) {
                        free(l->features[i].name);
                        memmove(l->features + i, l->features + i + 1,
                                (l->n_features - i - 1) * sizeof(*l->features));
                        l->n_features--;
                        return true;
                }
        return false;
}

static int apply_change(Entitlement *e, const Change *ch) {
        License *l = &e->license;
        CoreError err = {};
        int r;

        if (ch->c == ARG_SEATS)
                return parse_seats("upgrade", ch->value, &e->seats);
        if (ch->c == ARG_REMOVE_FEATURE)
                return remove_feature(l, ch->value)
                               ? 0
                               : report_error(-ENOENT, "upgrade: the key has no feature '%s'", ch->value);
        if (streq(ch->name, "feature")) {
                /* An existing feature of that name is replaced (a new limit, say). */
                _cleanup_free_ char *name = strndup(ch->value, strcspn(ch->value, ":"));
                if (!name)
                        return -ENOMEM;
                remove_feature(l, name);
        }
        r = vendor_license_apply_option(l, ch->name, ch->value, &err);
        if (r < 0)
                return report_error(r, "upgrade: %s", core_error_message(&err, r));
        return 0;
}

int verb_upgrade(int argc, char *argv[], void *userdata) {
        static const struct option extra[] = {
                {"seats", required_argument, NULL, ARG_SEATS},
                {"remove-feature", required_argument, NULL, ARG_REMOVE_FEATURE},
                {"feature", required_argument, NULL, ARG_FIELD},
                {"property", required_argument, NULL, ARG_FIELD},
                {"maintenance-until", required_argument, NULL, ARG_FIELD},
                {"not-after", required_argument, NULL, ARG_FIELD},
                {"licensee", required_argument, NULL, ARG_FIELD},
        };
        _cleanup_free_ Change *changes_v = calloc((size_t) argc, sizeof(Change));
        Changes changes = {.v = changes_v};
        _cleanup_(admin_done) AdminVerb v = {
                .name = "upgrade",
                .help = upgrade_help,
                .extra = extra,
                .n_extra = ELEMENTSOF(extra),
                .key_arg = KEY_REQUIRED,
                .on_option = collect_change,
                .userdata = &changes,
                .open_later = true,
        };
        _cleanup_(entitlement_done) Entitlement e = ENTITLEMENT_INIT;
        CoreError err = {};
        int r;

        if (!changes_v)
                return -ENOMEM;
        r = admin_parse(argc, argv, &v, userdata);
        if (r <= 0)
                return r;
        if (changes.n == 0)
                return report_error(-EINVAL,
                                    "upgrade: nothing to change (see 'licensed-vendor upgrade --help')");
        r = admin_open(&v);
        if (r < 0)
                return r;
        r = storage_entitlement_get(v.storage, v.key, &e, &err);
        if (r < 0)
                return report_error(r, "upgrade: %s", core_error_message(&err, r));
        for (size_t i = 0; i < changes.n; i++) {
                r = apply_change(&e, &changes.v[i]);
                if (r < 0)
                        return r;
        }
        r = check_template("upgrade", &e.license);
        if (r < 0)
                return r;
        r = storage_entitlement_upgrade(v.storage, &e, &err);
        if (r < 0)
                return report_error(r, "upgrade: %s", core_error_message(&err, r));
        printf("%s: revision %" PRIu32 " -> %" PRIu32 "; machines receive it at their next validation\n",
               v.key, e.license.revision, e.license.revision + 1);
        return 0;
}

/* release --key K --machine-id M, or release --proof FILE */

typedef struct ReleaseArgs {
        const char *machine_id;
        const char *proof;
} ReleaseArgs;

static int release_option(int c, const char *name, const char *value, void *userdata) {
        ReleaseArgs *a = userdata;

        if (c == ARG_MACHINE_ID)
                a->machine_id = value;
        else
                a->proof = value;
        return 0;
}

/* Acts on a machine's DEACTIVATION PROOF as POST /v1/deactivate does: the
 * proof names its license id and is signed by the device key the seat was
 * activated with; its nonce is recorded, so it frees a seat once. */
static int release_by_proof(AdminVerb *v, const char *path) {
        _cleanup_(machine_request_done) MachineRequest req = MACHINE_REQUEST_INIT;
        _cleanup_(activation_done) Activation a = {};
        _cleanup_free_ char *text = NULL;
        CoreError err = {};
        size_t len;
        int r;

        r = vendor_read_document(v->name, path, &text, &len);
        if (r < 0)
                return r;
        r = machine_request_verify(text, len, MACHINE_REQUEST_DEACTIVATION, &req, &err);
        if (r < 0)
                return report_error(r, "release: %s: NOT VALID: %s", streq(path, "-") ? "stdin" : path,
                                    core_error_message(&err, r));
        r = admin_open(v);
        if (r < 0)
                return r;
        r = storage_activation_get(v->storage, req.license_id, &a, &err);
        if (r == STORAGE_UNKNOWN_LICENSE)
                return report_error(-ENOENT, "release: %s", err.message);
        if (r < 0)
                return report_error(r, "release: %s", core_error_message(&err, r));
        if (!streq(a.machine_id, req.machine_id) || !streq(a.device_key, req.device_key))
                return report_error(-EPERM,
                                    "release: the proof is signed by machine %s, but license %s is bound to "
                                    "machine %s (or another device key): not released",
                                    req.machine_id, a.license_id, a.machine_id);
        if (v->key[0] && !streq(v->key, a.key))
                return report_error(-EINVAL, "release: license %s is not an activation of %s", a.license_id,
                                    v->key);
        r = storage_activation_release(v->storage, a.id, req.nonce, now_realtime(), &err);
        if (r == STORAGE_PROOF_USED)
                return report_error(-EALREADY, "release: %s: %s", streq(path, "-") ? "stdin" : path,
                                    err.message);
        if (r < 0)
                return report_error(r, "release: %s", core_error_message(&err, r));
        printf("%s: released the seat of license %s on machine %s\n", a.key, a.license_id, a.machine_id);
        return 0;
}

int verb_release(int argc, char *argv[], void *userdata) {
        static const struct option extra[] = {
                {"machine-id", required_argument, NULL, ARG_MACHINE_ID},
                {"proof", required_argument, NULL, ARG_PROOF},
        };
        ReleaseArgs args = {};
        _cleanup_(admin_done) AdminVerb v = {
                .name = "release",
                .help = "licensed-vendor release --db FILE|URI --key KEY --machine-id MACHINE\n"
                        "licensed-vendor release --db FILE|URI [--key KEY] --proof FILE|-\n\n"
                        "Frees the seat a machine holds, so another can activate.\n\n"
                        "  --machine-id MACHINE       A lost or broken machine: every seat of KEY it\n"
                        "                             holds. If it comes back, it hears 'revoked' at\n"
                        "                             its next validation. MACHINE is the id\n"
                        "                             'licensed-vendor activations' shows.\n"
                        "  --proof FILE|-             The DEACTIVATION PROOF the customer sent: frees\n"
                        "                             the seat of the license it names, once (a proof\n"
                        "                             used before is refused). With --key, the license\n"
                        "                             must be an activation of KEY.\n",
                .extra = extra,
                .n_extra = ELEMENTSOF(extra),
                .key_arg = KEY_OPTIONAL,
                .on_option = release_option,
                .userdata = &args,
                .open_later = true,
        };
        CoreError err = {};
        unsigned n = 0;
        int r;

        r = admin_parse(argc, argv, &v, userdata);
        if (r <= 0)
                return r;
        if (args.proof && args.machine_id)
                return report_error(-EINVAL, "release: --proof or --machine-id, not both");
        if (args.proof)
                return release_by_proof(&v, args.proof);
        if (!args.machine_id)
                return report_error(-EINVAL, "release: --machine-id MACHINE (with --key KEY) or --proof FILE "
                                             "is required");
        if (!v.key[0])
                return report_error(-EINVAL, "release: --key KEY is required with --machine-id");
        r = admin_open(&v);
        if (r < 0)
                return r;
        r = storage_release_machine(v.storage, v.key, args.machine_id, now_realtime(), &n, &err);
        if (r < 0)
                return report_error(r, "%s: %s", v.name, core_error_message(&err, r));
        printf("%s: released %u seat%s of machine %s\n", v.key, n, n == 1 ? "" : "s", args.machine_id);
        return 0;
}
