/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* licensed-site: options and verbs, the server's life (signals, the expiry
 * sweep), and the administration verbs. See licensed-site(8) and
 * docs/floating.md. */

#include <arpa/inet.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <syslog.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include "build-info.h"
#include "fileio.h"
#include "log.h"
#include "report-error.h"
#include "request.h"
#include "site.h"
#include "timeutil.h"
#include "verbs.h"

#define DEFAULT_STATE_DIR "/var/lib/licensed-site"
#define DEFAULT_LISTEN "0.0.0.0:7071"
#define DEFAULT_LEASE_TTL (2 * SEC_PER_MINUTE)
#define DEFAULT_BORROW_MAX (7 * SEC_PER_DAY)
#define DEFAULT_TOKEN_VALID SEC_PER_DAY
#define JSON_FLAGS (JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE)
#define PRODUCT_DIRS_MAX 8

static const char *const help_text =
        "licensed-site [OPTIONS] [VERB [ARGS]]\n"
        "\n"
        "The customer's license server for floating licenses: grants leases to the\n"
        "enrolled clients on the LAN, at most the seats of the floating license.\n"
        "\n"
        "Verbs:\n"
        "  run                          Serve (the default)\n"
        "  status                       Site id, certificate fingerprint, seats, leases\n"
        "  token                        Print a one-time join token for a client\n"
        "  activation-request KEY       Print the ACTIVATION REQUEST of this site for a\n"
        "                               license key (--product), for the vendor\n"
        "  activate KEY                 Activate the license key (--product) online at the\n"
        "                               vendor's server and install the floating license\n"
        "  install FILE                 Install the floating license the vendor answered\n"
        "                               (- reads standard input)\n"
        "  check-lease LICENSE LEASE    Check a lease as a client does: vendor -> floating\n"
        "                               license -> site key -> lease -> this client\n"
        "  release LEASE                Free a lease now, whoever holds it\n"
        "\n"
        "Options:\n"
        "  --config FILE                The site configuration (default\n"
        "                               " SITE_CONFIG_PATH "): options,\n"
        "                               reservations and limits; the flags win\n"
        "  --json                       status: print JSON\n"
        "  --state-dir DIR              Site id, keys, certificate, licenses, database\n"
        "                               (default " DEFAULT_STATE_DIR ")\n"
        "  --products-dir DIR           Product files (repeatable; default\n"
        "                               " VENDOR_PRODUCTS_DIR " then\n"
        "                               " ADMIN_PRODUCTS_DIR ")\n"
        "  --listen ADDRESS:PORT        Where to listen (default " DEFAULT_LISTEN "); port 0\n"
        "                               picks a free port\n"
        "  --lease-ttl DURATION         A lease ends this long after its last heartbeat\n"
        "                               (default 2m)\n"
        "  --borrow-max DURATION        Longest borrowing (default 7d)\n"
        "  --valid DURATION             token: how long the token works (default 1d)\n"
        "  --admin                      token: enrol the machine as an administrator of\n"
        "                               the site (sees every lease, releases any)\n"
        "  --product ID                 activation-request: the product\n"
        "  --server URL                 activate: the vendor's server (default: the\n"
        "                               product's server_url)\n"
        "  --ca-file FILE               activate: trust these CA certificates for it\n"
        "  --machine-id ID              check-lease: the client's machine id...\n"
        "  --device-key KEY             ...and its device key (base64)\n"
        "  -v --verbose                 Log each request\n"
        "  -h --help                    Show this help\n"
        "     --version                 Show the version\n"
        "\n"
        "See licensed-site(8) and docs/floating.md.\n";

typedef struct Options {
        const char *config;
        bool json;
        const char *state_dir;
        const char *product_dirs[PRODUCT_DIRS_MAX];
        size_t n_product_dirs;
        const char *listen;
        int64_t lease_ttl;
        int64_t borrow_max;
        int64_t token_valid;
        bool admin;
        const char *product;
        const char *machine_id;
        const char *device_key;
        const char *server;
        const char *ca_file;
} Options;

static int parse_duration_option(const char *opt, const char *v, int64_t min, int64_t *ret) {
        CoreError err = {};
        int r = duration_parse(v, ret, &err);

        if (r < 0)
                return report_error(r, "%s: %s", opt, core_error_message(&err, r));
        if (*ret < min)
                return report_error(-EINVAL, "%s: '%s' is too short (at least %" PRIi64 "s)", opt, v, min);
        return 0;
}

/* Returns 1 to go on, 0 to exit successfully (--help), negative on error. */
static int parse_argv(int argc, char *argv[], Options *o) {
        enum {
                ARG_VERSION = 0x100,
                ARG_STATE_DIR,
                ARG_PRODUCTS_DIR,
                ARG_LISTEN,
                ARG_LEASE_TTL,
                ARG_BORROW_MAX,
                ARG_VALID,
                ARG_PRODUCT,
                ARG_MACHINE_ID,
                ARG_DEVICE_KEY,
                ARG_SERVER,
                ARG_CA_FILE,
                ARG_CONFIG,
                ARG_JSON,
                ARG_ADMIN,
        };
        static const struct option options[] = {
                {"help", no_argument, NULL, 'h'},
                {"version", no_argument, NULL, ARG_VERSION},
                {"verbose", no_argument, NULL, 'v'},
                {"state-dir", required_argument, NULL, ARG_STATE_DIR},
                {"products-dir", required_argument, NULL, ARG_PRODUCTS_DIR},
                {"listen", required_argument, NULL, ARG_LISTEN},
                {"lease-ttl", required_argument, NULL, ARG_LEASE_TTL},
                {"borrow-max", required_argument, NULL, ARG_BORROW_MAX},
                {"valid", required_argument, NULL, ARG_VALID},
                {"product", required_argument, NULL, ARG_PRODUCT},
                {"machine-id", required_argument, NULL, ARG_MACHINE_ID},
                {"device-key", required_argument, NULL, ARG_DEVICE_KEY},
                {"server", required_argument, NULL, ARG_SERVER},
                {"ca-file", required_argument, NULL, ARG_CA_FILE},
                {"config", required_argument, NULL, ARG_CONFIG},
                {"json", no_argument, NULL, ARG_JSON},
                {"admin", no_argument, NULL, ARG_ADMIN},
                {}};
        int c, r = 0;

        while ((c = getopt_long(argc, argv, "+hv", options, NULL)) >= 0) {
                switch (c) {
                case 'h':
                        fputs(help_text, stdout);
                        return 0;
                case ARG_VERSION:
                        printf("licensed-site %s\n", PACKAGE_VERSION);
                        return 0;
                case 'v':
                        log_set_max_level(LOG_DEBUG);
                        break;
                case ARG_STATE_DIR:
                        o->state_dir = optarg;
                        break;
                case ARG_PRODUCTS_DIR:
                        if (o->n_product_dirs >= PRODUCT_DIRS_MAX)
                                return report_error(-E2BIG, "at most %d --products-dir", PRODUCT_DIRS_MAX);
                        o->product_dirs[o->n_product_dirs++] = optarg;
                        break;
                case ARG_LISTEN:
                        o->listen = optarg;
                        break;
                case ARG_LEASE_TTL:
                        r = parse_duration_option("--lease-ttl", optarg, 2, &o->lease_ttl);
                        break;
                case ARG_BORROW_MAX:
                        r = parse_duration_option("--borrow-max", optarg, 0, &o->borrow_max);
                        break;
                case ARG_VALID:
                        r = parse_duration_option("--valid", optarg, 1, &o->token_valid);
                        break;
                case ARG_PRODUCT:
                        o->product = optarg;
                        break;
                case ARG_MACHINE_ID:
                        o->machine_id = optarg;
                        break;
                case ARG_DEVICE_KEY:
                        o->device_key = optarg;
                        break;
                case ARG_SERVER:
                        o->server = optarg;
                        break;
                case ARG_CA_FILE:
                        o->ca_file = optarg;
                        break;
                case ARG_CONFIG:
                        o->config = optarg;
                        break;
                case ARG_JSON:
                        o->json = true;
                        break;
                case ARG_ADMIN:
                        o->admin = true;
                        break;
                default:
                        return -EINVAL;
                }
                if (r < 0)
                        return r;
        }
        if (o->n_product_dirs == 0) {
                o->product_dirs[o->n_product_dirs++] = VENDOR_PRODUCTS_DIR;
                o->product_dirs[o->n_product_dirs++] = ADMIN_PRODUCTS_DIR;
        }
        return 1;
}

static void warn_product(const char *path, const char *message, void *userdata) {
        log_warning("Skipping product file %s: %s", path, message);
}

/* A duration in force: the flag wins, then site.conf, then the default. */
static int64_t effective(int64_t flag, int64_t conf, int64_t fallback) {
        return flag != SITE_CONFIG_UNSET ? flag : conf != SITE_CONFIG_UNSET ? conf : fallback;
}

/* The state every verb but activation-request needs: products, licenses,
 * the database. create: the server's first start makes what is missing. */
static int site_open(Site *s, const Options *o, bool create) {
        _cleanup_free_ char *db = NULL;
        CoreError err = {};
        int r;

        pthread_mutex_init(&s->config_lock, NULL);
        s->config = (SiteConfig) SITE_CONFIG_INIT;
        r = site_config_load(&s->config, o->config, &err);
        if (r < 0)
                return report_error(r, "%s", core_error_message(&err, r));
        s->lease_ttl = effective(o->lease_ttl, s->config.lease_ttl, DEFAULT_LEASE_TTL);
        s->borrow_max = effective(o->borrow_max, s->config.borrow_max, DEFAULT_BORROW_MAX);
        r = site_state_open(s, o->state_dir, create, &err);
        if (r >= 0)
                r = product_set_load(&s->products, o->product_dirs, o->n_product_dirs, warn_product, NULL);
        if (r >= 0)
                r = site_state_load_licenses(s, &err);
        if (r >= 0)
                r = asprintf(&db, "%s/site.db", o->state_dir) < 0 ? -ENOMEM : 0;
        if (r >= 0)
                r = site_storage_open(db, &s->storage, &err);
        if (r >= 0)
                r = site_tls_load(s, create, &err);
        if (r < 0)
                return report_error(r, "%s", core_error_message(&err, r));
        return 0;
}

static void sweep(Site *s) {
        CoreError err = {};
        int r = site_storage_expire(s->storage, now_realtime(), site_event_expired, s, &err);

        if (r < 0)
                log_warning("Expiring leases failed: %s", core_error_message(&err, r));
}

/* The sweep's period: often enough that an ended lease is told soon after
 * its end, at most every 5 s. */
static int64_t sweep_interval(int64_t lease_ttl) {
        return lease_ttl / 4 > 5 ? 5 : lease_ttl / 4 ?: 1;
}

/* One duration of site.conf on SIGHUP: *value (read by the HTTP thread
 * under config_lock) becomes the one in force, logged if it changed.
 * Leases already granted keep their expiry: the new value is used from
 * the next grant or heartbeat on. */
static void reload_duration(Site *s, const char *name, const char *flag, int64_t flag_value, int64_t conf_value,
                            int64_t fallback, int64_t *value) {
        int64_t v = effective(flag_value, conf_value, fallback), old;
        char a[32], b[32];

        if (flag_value != SITE_CONFIG_UNSET && conf_value != SITE_CONFIG_UNSET && conf_value != flag_value)
                log_warning("%s = %s in site.conf is not used: %s %s on the command line wins.", name,
                            duration_format(conf_value, a), flag, duration_format(flag_value, b));
        pthread_mutex_lock(&s->config_lock);
        old = *value;
        *value = v;
        pthread_mutex_unlock(&s->config_lock);
        if (v != old)
                log_info("%s is now %s (was %s): new leases and heartbeats use it, leases already granted keep "
                         "their expiry.",
                         name, duration_format(v, a), duration_format(old, b));
}

/* SIGHUP: site.conf's reservations, limits, show_holders, lease_ttl and
 * borrow_max again; a bad file keeps the ones in force. listen needs a
 * restart (the socket is bound once): a change is only warned about. */
static void reload(Site *s, const Options *o) {
        _cleanup_(site_config_done) SiteConfig n = SITE_CONFIG_INIT;
        CoreError err = {};
        SiteConfig old;
        int r;

        sd_notify(false, "RELOADING=1");
        r = site_config_load(&n, o->config, &err);
        if (r < 0)
                log_error("Not reloading %s, keeping the configuration in force: %s", o->config,
                          core_error_message(&err, r));
        else {
                if (!o->listen && !streq_ptr(n.listen, s->config.listen))
                        log_warning("listen changed in %s to %s: licensed-site keeps listening where it does "
                                    "until it is restarted.",
                                    o->config, n.listen ?: "the default " DEFAULT_LISTEN);
                reload_duration(s, "lease_ttl", "--lease-ttl", o->lease_ttl, n.lease_ttl, DEFAULT_LEASE_TTL,
                                &s->lease_ttl);
                reload_duration(s, "borrow_max", "--borrow-max", o->borrow_max, n.borrow_max, DEFAULT_BORROW_MAX,
                                &s->borrow_max);
                pthread_mutex_lock(&s->config_lock);
                old = s->config;
                s->config = n;
                n = old;
                pthread_mutex_unlock(&s->config_lock);
                log_info("Reloaded %s: %zu feature(s) with reservations or limits.", o->config,
                         s->config.n_features);
        }
        sd_notify(false, "READY=1");
}

static int verb_run(int argc, char *argv[], void *userdata) {
        const Options *o = userdata;
        _cleanup_(site_done) Site s = {};
        CoreError err = {};
        char addr[INET6_ADDRSTRLEN + 8] = "?";
        int64_t interval;
        sigset_t mask;
        int r, sig;

        r = site_open(&s, o, true);
        if (r < 0)
                return r;
        r = site_parse_listen(o->listen ?: s.config.listen ?: DEFAULT_LISTEN, &s.listen, &err);
        if (r < 0)
                return report_error(r, "%s", core_error_message(&err, r));
        if (s.n_licenses == 0)
                log_warning("No floating license is installed in %s/licenses: every checkout will be refused "
                            "(licensed-site activation-request, then install)",
                            o->state_dir);

        /* The HTTP thread inherits the mask; only sigtimedwait() below sees these. */
        sigemptyset(&mask);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGHUP);
        pthread_sigmask(SIG_BLOCK, &mask, NULL);

        r = site_http_start(&s, &err);
        if (r < 0)
                return report_error(r, "%s", core_error_message(&err, r));
        if (s.listen.ss_family == AF_INET6)
                inet_ntop(AF_INET6, &((struct sockaddr_in6 *) &s.listen)->sin6_addr, addr, sizeof(addr));
        else
                inet_ntop(AF_INET, &((struct sockaddr_in *) &s.listen)->sin_addr, addr, sizeof(addr));
        log_info("Listening on https://%s%s%s:%u (site %s, %zu floating license(s), certificate SHA-256 %s)",
                 s.listen.ss_family == AF_INET6 ? "[" : "", addr, s.listen.ss_family == AF_INET6 ? "]" : "",
                 site_http_port(&s), s.id, s.n_licenses, s.fingerprint);
        sd_notifyf(false, "READY=1\nSTATUS=Serving site %s on port %u", s.id, site_http_port(&s));

        /* The sweep only turns ended leases into journal events and frees
         * their rows: a grant never counts an ended lease either way. */
        interval = sweep_interval(s.lease_ttl);
        for (;;) {
                struct timespec ts = {.tv_sec = interval};

                sig = sigtimedwait(&mask, NULL, &ts);
                if (sig == SIGTERM || sig == SIGINT)
                        break;
                if (sig == SIGHUP) {
                        reload(&s, o);
                        interval = sweep_interval(s.lease_ttl);
                }
                sweep(&s);
        }
        sd_notify(false, "STOPPING=1");
        log_info("Stopping on signal %d.", sig);
        site_http_stop(&s);
        return 0;
}

static unsigned leases_of(const Lease *leases, size_t n, const char *digest, const char *feature) {
        unsigned used = 0;

        for (size_t k = 0; k < n; k++)
                used += streq(leases[k].license, digest) && streq(leases[k].feature, feature);
        return used;
}

static const char *time_or_null(int64_t t, char buf[static RFC3339_MAX]) {
        return t != TIME_UNSET ? time_format_rfc3339(t, buf) : NULL;
}

/* status --json: the same as the table, for scripts. */
static void print_status_json(const Site *s, unsigned clients, const SiteAdmin *admins, size_t n_admins,
                              const Lease *leases, size_t n) {
        json_object *o = json_object_new_object(), *features = json_object_new_array(),
                    *list = json_object_new_array(), *admin_list = json_object_new_array();

        json_object_object_add(o, "site", json_object_new_string(s->id));
        json_object_object_add(o, "key", json_object_new_string(s->key_base64));
        json_object_object_add(o, "fingerprint", json_object_new_string(s->fingerprint));
        json_object_object_add(o, "clients", json_object_new_int64(clients));
        for (size_t i = 0; i < n_admins; i++) {
                json_object *a = json_object_new_object();
                json_object_object_add(a, "machine_id", json_object_new_string(admins[i].machine_id));
                json_object_object_add(a, "host", json_object_new_string(admins[i].host));
                json_object_array_add(admin_list, a);
        }
        json_object_object_add(o, "admins", admin_list);
        for (size_t i = 0; i < s->n_licenses; i++) {
                const License *l = &s->licenses[i].license;
                for (size_t j = 0; j < l->n_features; j++) {
                        json_object *f = json_object_new_object();
                        json_object_object_add(f, "product", json_object_new_string(l->product));
                        json_object_object_add(f, "feature", json_object_new_string(l->features[j].name));
                        json_object_object_add(f, "license", json_object_new_string(l->id));
                        json_object_object_add(f, "seats", json_object_new_int64(l->features[j].limit));
                        json_object_object_add(
                                f, "used",
                                json_object_new_int64(leases_of(leases, n, s->licenses[i].digest,
                                                                l->features[j].name)));
                        json_object_array_add(features, f);
                }
        }
        for (size_t k = 0; k < n; k++) {
                json_object *e = json_object_new_object();
                char t[RFC3339_MAX];
                const char *v;
                json_object_object_add(e, "id", json_object_new_string(leases[k].id));
                json_object_object_add(e, "product", json_object_new_string(leases[k].product));
                json_object_object_add(e, "feature", json_object_new_string(leases[k].feature));
                json_object_object_add(e, "host", json_object_new_string(leases[k].host));
                json_object_object_add(e, "user", json_object_new_string(leases[k].user));
                json_object_object_add(e, "machine_id", json_object_new_string(leases[k].machine_id));
                json_object_object_add(e, "since", json_object_new_string(time_format_rfc3339(leases[k].granted, t)));
                json_object_object_add(e, "expires", json_object_new_string(time_format_rfc3339(leases[k].expires, t)));
                v = time_or_null(leases[k].borrowed_until, t);
                json_object_object_add(e, "borrowed_until", v ? json_object_new_string(v) : NULL);
                json_object_array_add(list, e);
        }
        json_object_object_add(o, "features", features);
        json_object_object_add(o, "leases", list);
        printf("%s\n", json_object_to_json_string_ext(o, JSON_FLAGS));
        json_object_put(o);
}

static void print_status_text(const Site *s, unsigned clients, const SiteAdmin *admins, size_t n_admins,
                              const Lease *leases, size_t n) {
        printf("Site: %s\nSite key: %s\nCertificate SHA-256: %s\nEnrolled clients: %u\nAdministrators:", s->id,
               s->key_base64, s->fingerprint, clients);
        for (size_t i = 0; i < n_admins; i++)
                printf("%s %s (%s)", i > 0 ? "," : "", admins[i].host, admins[i].machine_id);
        printf("%s\n\n", n_admins > 0 ? "" : " none");
        printf("%-32s %-24s %-16s %5s %5s\n", "PRODUCT", "FEATURE", "LICENSE", "SEATS", "USED");
        for (size_t i = 0; i < s->n_licenses; i++) {
                const License *l = &s->licenses[i].license;
                for (size_t j = 0; j < l->n_features; j++)
                        printf("%-32s %-24s %-16s %5u %5u\n", l->product, l->features[j].name, l->id,
                               l->features[j].limit, leases_of(leases, n, s->licenses[i].digest, l->features[j].name));
        }
        printf("\n%-32s %-16s %-16s %-12s %-20s %-20s %s\n", "LEASE", "FEATURE", "HOST", "USER", "SINCE",
               "EXPIRES", "BORROWED UNTIL");
        for (size_t k = 0; k < n; k++) {
                char a[RFC3339_MAX], b[RFC3339_MAX], c[RFC3339_MAX];
                printf("%-32s %-16s %-16s %-12s %-20s %-20s %s\n", leases[k].id, leases[k].feature, leases[k].host,
                       leases[k].user, time_format_rfc3339(leases[k].granted, a),
                       time_format_rfc3339(leases[k].expires, b), time_or_null(leases[k].borrowed_until, c) ?: "-");
        }
}

static int verb_status(int argc, char *argv[], void *userdata) {
        const Options *o = userdata;
        _cleanup_(site_done) Site s = {};
        Lease *leases = NULL;
        size_t n = 0;
        unsigned clients = 0;
        SiteAdmin *admins = NULL;
        size_t n_admins = 0;
        int64_t now = now_realtime();
        CoreError err = {};
        int r;

        r = site_open(&s, o, false);
        if (r < 0)
                return r;
        r = site_storage_list(s.storage, now, &leases, &n, &err);
        if (r >= 0)
                r = site_storage_clients(s.storage, &clients, &err);
        if (r >= 0)
                r = site_storage_admins(s.storage, &admins, &n_admins, &err);
        if (r < 0)
                return report_error(r, "%s", core_error_message(&err, r));
        if (o->json)
                print_status_json(&s, clients, admins, n_admins, leases, n);
        else
                print_status_text(&s, clients, admins, n_admins, leases, n);
        site_admin_free_many(admins, n_admins);
        for (size_t k = 0; k < n; k++)
                lease_done(&leases[k]);
        free(leases);
        return 0;
}

/* Frees a lease in the database the running server shares: its next
 * heartbeat is answered "unknown-lease", and its client checks out again
 * (or is refused if the seat was taken meanwhile). */
static int verb_release(int argc, char *argv[], void *userdata) {
        const Options *o = userdata;
        _cleanup_(site_done) Site s = {};
        _cleanup_(lease_done) Lease l = LEASE_INIT;
        CoreError err = {};
        int r;

        r = site_open(&s, o, false);
        if (r < 0)
                return r;
        r = site_storage_release(s.storage, argv[1], &l, &err);
        if (r < 0)
                return report_error(r, "cannot release lease %s: %s", argv[1], core_error_message(&err, r));
        if (r == 0)
                return report_error(-ENOENT, "there is no lease %s at this site (see licensed-site status)",
                                    argv[1]);
        site_event_released(&l, NULL);
        printf("Released lease %s of %s feature %s (held by %s@%s).\n", l.id, l.product, l.feature, l.user, l.host);
        return 0;
}

static int verb_token(int argc, char *argv[], void *userdata) {
        const Options *o = userdata;
        _cleanup_(site_done) Site s = {};
        char token[LICENSE_NONCE_STRING_SIZE], t[RFC3339_MAX];
        int64_t expires = now_realtime() + o->token_valid;
        CoreError err = {};
        int r;

        r = site_open(&s, o, false);
        if (r < 0)
                return r;
        r = nonce_generate(token);
        if (r >= 0)
                r = site_storage_add_token_admin(s.storage, token, expires, o->admin, &err);
        if (r < 0)
                return report_error(r, "cannot make a join token: %s", core_error_message(&err, r));
        printf("%s\n", token);
        fprintf(stderr, "%s for site %s, usable once until %s. Certificate SHA-256: %s\n",
                o->admin ? "Administrator join token" : "Join token", s.id, time_format_rfc3339(expires, t),
                s.fingerprint);
        return 0;
}

static int verb_activation_request(int argc, char *argv[], void *userdata) {
        const Options *o = userdata;
        _cleanup_(site_done) Site s = {};
        _cleanup_free_ char *text = NULL;
        CoreError err = {};
        int r;

        r = site_state_open(&s, o->state_dir, false, &err);
        if (r >= 0)
                r = site_activation_request(&s, o->product, argv[1], &text, &err);
        if (r < 0)
                return report_error(r, "%s", core_error_message(&err, r));
        fputs(text, stdout);
        return 0;
}

/* Online: the same request, posted to the vendor's licensed-server, and
 * the license it answers installed as install does. */
static int verb_activate(int argc, char *argv[], void *userdata) {
        const Options *o = userdata;
        _cleanup_(site_done) Site s = {};
        _cleanup_(license_done) License l = LICENSE_INIT;
        _cleanup_free_ char *request = NULL, *text = NULL;
        const char *server = o->server;
        CoreError err = {};
        int r;

        r = site_open(&s, o, false);
        if (r < 0)
                return r;
        if (!server) {
                const Product *p = o->product ? product_set_find(&s.products, o->product) : NULL;
                server = p ? p->server_url : NULL;
        }
        if (!server)
                return report_error(-EINVAL, "activate: no server: give --server URL, or a --product whose "
                                             "product file has a server_url");
        r = site_activation_request(&s, o->product, argv[1], &request, &err);
        if (r >= 0)
                r = site_activate_online(server, o->ca_file, request, &text, &err);
        if (r >= 0)
                r = site_state_install(&s, text, strlen(text), &l, &err);
        if (r < 0)
                return report_error(r, "%s", core_error_message(&err, r));
        printf("Activated and installed floating license %s for %s. Restart licensed-site to serve it.\n", l.id,
               l.product);
        return 0;
}

static int verb_install(int argc, char *argv[], void *userdata) {
        const Options *o = userdata;
        _cleanup_(site_done) Site s = {};
        _cleanup_(license_done) License l = LICENSE_INIT;
        _cleanup_free_ char *text = NULL;
        CoreError err = {};
        size_t len;
        int r;

        r = site_open(&s, o, false);
        if (r < 0)
                return r;
        r = streq(argv[1], "-") ? read_stream(stdin, ARMOR_MAX_SIZE, &text, &len)
                                : read_file(argv[1], ARMOR_MAX_SIZE, &text, &len);
        if (r < 0)
                return report_error(r, "cannot read %s: %s", argv[1], strerror(-r));
        r = site_state_install(&s, text, len, &l, &err);
        if (r < 0)
                return report_error(r, "%s", core_error_message(&err, r));
        printf("Installed floating license %s for %s. Restart licensed-site to serve it.\n", l.id, l.product);
        return 0;
}

/* What a client will do with a lease (lease_check_chain()), for an
 * administrator who wants to know why one is refused, and for the tests. */
static int verb_check_lease(int argc, char *argv[], void *userdata) {
        const Options *o = userdata;
        _cleanup_(product_set_done) ProductSet products = {};
        _cleanup_(license_done) License l = LICENSE_INIT;
        _cleanup_(lease_done) Lease ls = LEASE_INIT;
        _cleanup_free_ char *lic = NULL, *lease = NULL;
        char t[RFC3339_MAX];
        size_t lic_len, lease_len;
        CoreError err = {};
        int r;

        if (!o->machine_id || !o->device_key)
                return report_error(-EINVAL, "check-lease needs --machine-id and --device-key (the client's)");
        r = product_set_load(&products, o->product_dirs, o->n_product_dirs, warn_product, NULL);
        if (r < 0)
                return report_error(r, "cannot load the products: %s", strerror(-r));
        r = read_file(argv[1], ARMOR_MAX_SIZE, &lic, &lic_len);
        if (r >= 0)
                r = read_file(argv[2], ARMOR_MAX_SIZE, &lease, &lease_len);
        if (r < 0)
                return report_error(r, "cannot read %s or %s: %s", argv[1], argv[2], strerror(-r));
        r = lease_check_chain(lic, lic_len, lease, lease_len, &products, o->machine_id, o->device_key,
                              now_realtime(), &l, &ls, &err);
        if (r < 0)
                return report_error(r, "lease refused: %s", core_error_message(&err, r));
        printf("Lease %s of %s feature %s from site %s (license %s) holds until %s.\n", ls.id, ls.product,
               ls.feature, ls.site, l.id, time_format_rfc3339(ls.borrowed_until ?: ls.expires, t));
        return 0;
}

static int run(int argc, char *argv[]) {
        static const Verb verbs[] = {
                {"run", 1, 1, verb_run},
                {"status", 1, 1, verb_status},
                {"token", 1, 1, verb_token},
                {"activation-request", 2, 2, verb_activation_request},
                {"activate", 2, 2, verb_activate},
                {"install", 2, 2, verb_install},
                {"check-lease", 3, 3, verb_check_lease},
                {"release", 2, 2, verb_release},
                {},
        };
        static char *run_verb[] = {(char *) "run", NULL};
        Options o = {
                .config = SITE_CONFIG_PATH,
                .state_dir = DEFAULT_STATE_DIR,
                .lease_ttl = SITE_CONFIG_UNSET,
                .borrow_max = SITE_CONFIG_UNSET,
                .token_valid = DEFAULT_TOKEN_VALID,
        };
        int r;

        r = parse_argv(argc, argv, &o);
        if (r <= 0)
                return r;
        if (optind >= argc)
                return dispatch_verb("licensed-site", 1, run_verb, verbs, &o);
        return dispatch_verb("licensed-site", argc - optind, argv + optind, verbs, &o);
}

int main(int argc, char *argv[]) {
        return run(argc, argv) < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
