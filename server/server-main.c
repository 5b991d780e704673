/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* licensed-server: the vendor's activation and validation server. Options,
 * the context's life, and waiting for SIGTERM; main() maps run()'s result
 * to an exit code. See licensed-server(8) and docs/protocol.md. */

#include <assert.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <systemd/sd-daemon.h>

#include "build-info.h"
#include "key-file.h"
#include "portal.h"
#include "server.h"

#define DEFAULT_LISTEN "127.0.0.1:7070"
#define DEFAULT_THREADS 16
#define DEFAULT_TIMEOUT_SEC 10
#define DB_POOL_MAX 256
#define DB_TIMEOUT_MS_MAX 600000
#define DEFAULT_RATE "20/s"
#define DEFAULT_BURST 500
/* Client addresses the rate limit remembers (about 40 bytes each). */
#define RATELIMIT_SLOTS 16384

static const char *const help_text =
        "licensed-server --db FILE|URI --signing-key FILE [OPTIONS]\n"
        "\n"
        "Answers machines that activate, validate and deactivate licenses online,\n"
        "and serves the offline activation page and the admin API (/v1/admin/,\n"
        "with tokens from 'licensed-vendor token create'). Entitlements are created\n"
        "with 'licensed-vendor entitlement create'.\n"
        "\n"
        "  --listen ADDRESS:PORT  Where to listen (default " DEFAULT_LISTEN "); IPv6 as\n"
        "                         [::1]:7070; port 0 picks a free port\n"
        "  --admin-listen ADDRESS:PORT\n"
        "                         Serve the admin API there only (default: on --listen)\n"
        "  --db FILE              The SQLite database (created if missing)\n"
        "  --db FILE|URI          The database: a SQLite file (created if missing) or\n"
        "                         a PostgreSQL URI postgresql://[USER@]HOST[:PORT]/DB\n"
        "  --db-pool N            PostgreSQL connections at most (default 8)\n"
        "  --db-timeout MS        Bound on each PostgreSQL statement and connect,\n"
        "                         in milliseconds (default 5000)\n"
        "  --signing-key FILE     The private key the products trust (from keygen)\n"
        "  --tls-cert FILE        Serve HTTPS with this PEM certificate chain...\n"
        "  --tls-key FILE         ...and this PEM private key (mode 0600)\n"
        "  --threads N            Worker threads (default 16)\n"
        "  --timeout SECONDS      Close connections idle this long (default 10)\n"
        "  --rate-limit RATE/s    Requests a second per client address, also RATE/min,\n"
        "                         or off (default " DEFAULT_RATE ")\n"
        "  --rate-burst N         Requests a client may make at once (default 500)\n"
        "  --metrics-listen ADDRESS:PORT\n"
        "                         Serve Prometheus metrics at /metrics there (default:\n"
        "                         no metrics)\n"
        "\n"
        "The customer portal at /portal (on by default):\n"
        "  --no-portal            Do not serve the portal\n"
        "  --portal-title TEXT    The product or company name its pages show\n"
        "  --portal-logo-url URL  An https:// image shown beside the title\n"
        "  --portal-support ADDR  An e-mail address or https:// URL for questions\n"
        "  --portal-color #RRGGBB The pages' colour (default #0b5cad)\n"
        "  --portal-idle-timeout SECONDS\n"
        "                         Sign a customer out after this long without a\n"
        "                         request (default 900)\n"
        "  --portal-release-limit N\n"
        "                         Machines a customer may release per key in any 30\n"
        "                         days (default 3; 0: no limit)\n"
        "  -h --help              Show this help\n"
        "     --version           Show the version\n"
        "\n"
        "See licensed-server(8).\n";

typedef struct Options {
        const char *listen;
        const char *admin_listen;
        const char *db;
        const char *signing_key;
        const char *tls_cert;
        const char *tls_key;
        const char *metrics_listen;
        unsigned threads;
        unsigned timeout_sec;
        StorageOptions storage;
        double rate;
        unsigned burst;
        PortalOptions portal;
} Options;

static int parse_uint(const char *opt, const char *v, unsigned min, unsigned max, unsigned *ret) {
        char *end;
        unsigned long n;

        errno = 0;
        n = strtoul(v, &end, 10);
        if (errno || !*v || *end || n < min || n > max)
                return server_log_error(-EINVAL, "%s: '%s' is not a number from %u to %u", opt, v, min, max);
        *ret = (unsigned) n;
        return 0;
}

/* A portal option checked by check, as it is read. */
static int set_checked(const char *v, int (*check)(const char *v, CoreError *err), const char **ret) {
        CoreError err = {};
        int r = check(v, &err);

        if (r < 0)
                return server_log_error(r, "%s", core_error_message(&err, r));
        *ret = v;
        return 0;
}

/* Returns 1 to run, 0 to exit successfully (--help), negative on error. */
static int parse_argv(int argc, char *argv[], Options *o) {
        enum {
                ARG_VERSION = 0x100,
                ARG_LISTEN,
                ARG_ADMIN_LISTEN,
                ARG_DB,
                ARG_SIGNING_KEY,
                ARG_TLS_CERT,
                ARG_TLS_KEY,
                ARG_THREADS,
                ARG_TIMEOUT,
                ARG_DB_POOL,
                ARG_DB_TIMEOUT,
                ARG_RATE_LIMIT,
                ARG_RATE_BURST,
                ARG_METRICS_LISTEN,
                ARG_NO_PORTAL,
                ARG_PORTAL_TITLE,
                ARG_PORTAL_LOGO_URL,
                ARG_PORTAL_SUPPORT,
                ARG_PORTAL_COLOR,
                ARG_PORTAL_IDLE_TIMEOUT,
                ARG_PORTAL_RELEASE_LIMIT,
        };
        static const struct option options[] = {
                {"help", no_argument, NULL, 'h'},
                {"version", no_argument, NULL, ARG_VERSION},
                {"listen", required_argument, NULL, ARG_LISTEN},
                {"admin-listen", required_argument, NULL, ARG_ADMIN_LISTEN},
                {"db", required_argument, NULL, ARG_DB},
                {"signing-key", required_argument, NULL, ARG_SIGNING_KEY},
                {"tls-cert", required_argument, NULL, ARG_TLS_CERT},
                {"tls-key", required_argument, NULL, ARG_TLS_KEY},
                {"threads", required_argument, NULL, ARG_THREADS},
                {"timeout", required_argument, NULL, ARG_TIMEOUT},
                {"db-pool", required_argument, NULL, ARG_DB_POOL},
                {"db-timeout", required_argument, NULL, ARG_DB_TIMEOUT},
                {"rate-limit", required_argument, NULL, ARG_RATE_LIMIT},
                {"rate-burst", required_argument, NULL, ARG_RATE_BURST},
                {"metrics-listen", required_argument, NULL, ARG_METRICS_LISTEN},
                {"no-portal", no_argument, NULL, ARG_NO_PORTAL},
                {"portal-title", required_argument, NULL, ARG_PORTAL_TITLE},
                {"portal-logo-url", required_argument, NULL, ARG_PORTAL_LOGO_URL},
                {"portal-support", required_argument, NULL, ARG_PORTAL_SUPPORT},
                {"portal-color", required_argument, NULL, ARG_PORTAL_COLOR},
                {"portal-idle-timeout", required_argument, NULL, ARG_PORTAL_IDLE_TIMEOUT},
                {"portal-release-limit", required_argument, NULL, ARG_PORTAL_RELEASE_LIMIT},
                {},
        };
        CoreError err = {};
        int c, r;

        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        fputs(help_text, stdout);
                        return 0;
                case ARG_VERSION:
                        printf("licensed-server %s\n", PACKAGE_VERSION);
                        return 0;
                case ARG_LISTEN:
                        o->listen = optarg;
                        break;
                case ARG_ADMIN_LISTEN:
                        o->admin_listen = optarg;
                        break;
                case ARG_DB:
                        o->db = optarg;
                        break;
                case ARG_SIGNING_KEY:
                        o->signing_key = optarg;
                        break;
                case ARG_TLS_CERT:
                        o->tls_cert = optarg;
                        break;
                case ARG_TLS_KEY:
                        o->tls_key = optarg;
                        break;
                case ARG_THREADS:
                        r = parse_uint("--threads", optarg, 1, 64, &o->threads);
                        if (r < 0)
                                return r;
                        break;
                case ARG_TIMEOUT:
                        r = parse_uint("--timeout", optarg, 1, 3600, &o->timeout_sec);
                        if (r < 0)
                                return r;
                        break;
                case ARG_DB_POOL:
                        r = parse_uint("--db-pool", optarg, 1, DB_POOL_MAX, &o->storage.pool_size);
                        if (r < 0)
                                return r;
                        break;
                case ARG_DB_TIMEOUT:
                        r = parse_uint("--db-timeout", optarg, 1, DB_TIMEOUT_MS_MAX, &o->storage.timeout_ms);
                        if (r < 0)
                                return r;
                        break;
                case ARG_RATE_LIMIT:
                        r = ratelimit_parse_rate(optarg, &o->rate, &err);
                        if (r < 0)
                                return server_log_error(r, "%s", core_error_message(&err, r));
                        break;
                case ARG_RATE_BURST:
                        r = parse_uint("--rate-burst", optarg, 1, 1000000, &o->burst);
                        if (r < 0)
                                return r;
                        break;
                case ARG_METRICS_LISTEN:
                        o->metrics_listen = optarg;
                        break;
                case ARG_NO_PORTAL:
                        o->portal.disabled = true;
                        break;
                case ARG_PORTAL_TITLE:
                        r = set_checked(optarg, portal_check_title, &o->portal.title);
                        if (r < 0)
                                return r;
                        break;
                case ARG_PORTAL_LOGO_URL:
                        r = set_checked(optarg, portal_check_logo_url, &o->portal.logo_url);
                        if (r < 0)
                                return r;
                        break;
                case ARG_PORTAL_SUPPORT:
                        r = set_checked(optarg, portal_check_support, &o->portal.support);
                        if (r < 0)
                                return r;
                        break;
                case ARG_PORTAL_COLOR:
                        r = set_checked(optarg, portal_check_color, &o->portal.color);
                        if (r < 0)
                                return r;
                        break;
                case ARG_PORTAL_IDLE_TIMEOUT:
                        r = parse_uint("--portal-idle-timeout", optarg, 1, 86400, &o->portal.idle_sec);
                        if (r < 0)
                                return r;
                        break;
                case ARG_PORTAL_RELEASE_LIMIT:
                        r = parse_uint("--portal-release-limit", optarg, 0, 1000, &o->portal.release_limit);
                        if (r < 0)
                                return r;
                        break;
                default:
                        return -EINVAL;
                }
        if (optind < argc)
                return server_log_error(-EINVAL, "unexpected argument '%s'", argv[optind]);
        if (!o->db)
                return server_log_error(-EINVAL, "--db FILE|URI is required (the database licensed-vendor manages)");
        if (!o->signing_key)
                return server_log_error(-EINVAL, "--signing-key FILE is required (the key the products trust)");
        return 1;
}

static void server_done(Server *s) {
        server_metrics_stop(&s->metrics);
        server_http_stop(s);
        server_metrics_done(&s->metrics);
        s->ratelimit = ratelimit_free(s->ratelimit);
        s->portal = portal_free(s->portal);
        s->storage = storage_close(s->storage);
        EVP_PKEY_free(s->signing_key);
        s->signing_key = NULL;
        server_page_done(&s->page);
        server_tls_done(s);
}

/* SIGHUP (systemctl reload): the TLS certificate and key again. */
static void reload(Server *s) {
        CoreError err = {};
        int r;

        sd_notify(false, "RELOADING=1");
        r = server_http_reload(s, &err);
        if (r < 0)
                server_log_at(LOG_ERR, "reload: %s; still serving the previous certificate",
                              core_error_message(&err, r));
        else if (r == 0)
                server_log("reload: plain HTTP, no certificate to read again");
        else
                server_log_at(LOG_NOTICE, "reload: new connections get the certificate of %s",
                              s->tls_cert_path);
        sd_notify(false, "READY=1");
}

/* Waits for SIGTERM or SIGINT, which every thread blocks; reloads on
 * SIGHUP, and every second stops the listeners a reload replaced once
 * their last connection is gone. */
static void wait_for_signal(Server *s, const sigset_t *mask) {
        const struct timespec tick = {.tv_sec = 1};
        int sig;

        for (;;) {
                sig = sigtimedwait(mask, NULL, &tick);
                if (sig == SIGTERM || sig == SIGINT)
                        break;
                if (sig == SIGHUP)
                        reload(s);
                server_http_reap(s, server_now_usec());
        }
        server_log("signal %s: stopping", sig == SIGINT ? "SIGINT" : "SIGTERM");
}

/* Before a scrape: the database pool's use, for a backend with a pool. */
static void refresh_pool_gauge(ServerMetrics *m, void *userdata) {
        Server *s = userdata;
        unsigned in_use, size;

        if (s->storage && storage_pool_stats(s->storage, &in_use, &size) >= 0)
                server_metrics_pool(m, in_use, size);
}

static int run(const Options *o) {
        _cleanup_(server_done) Server s = {.threads = o->threads, .timeout_sec = o->timeout_sec};
        _cleanup_free_ char *db_name = NULL;
        char url[128], metrics_url[160], key_id[KEY_ID_STRING_SIZE];
        CoreError err = {};
        sigset_t mask;
        int r;

        r = server_parse_listen(o->listen, &s.listen, &s.listen_len, &err);
        if (r < 0)
                return server_log_error(r, "%s", core_error_message(&err, r));
        if (o->metrics_listen) {
                r = server_parse_listen(o->metrics_listen, &s.metrics.listen, &s.metrics.listen_len, &err);
                if (r < 0)
                        return server_log_error(r, "--metrics-listen: %s", core_error_message(&err, r));
        }
        r = server_metrics_init(&s.metrics);
        s.metrics.refresh = refresh_pool_gauge;
        s.metrics.refresh_userdata = &s;
        if (r < 0)
                return server_log_error(r, "%s", strerror(-r));
        if (o->rate > 0) {
                r = ratelimit_new(o->rate, o->burst, RATELIMIT_SLOTS, &s.ratelimit);
                if (r < 0)
                        return server_log_error(r, "cannot set up the rate limit: %s", strerror(-r));
        }
        if (o->admin_listen) {
                r = server_parse_listen(o->admin_listen, &s.admin_listen, &s.admin_listen_len, &err);
                if (r < 0)
                        return server_log_error(r, "--admin-listen: %s", core_error_message(&err, r));
                s.admin_separate = true;
        }
        r = ed25519_load_private(o->signing_key, &s.signing_key, &err);
        if (r < 0)
                return server_log_error(r, "%s", core_error_message(&err, r));
        r = key_id_from_key(s.signing_key, key_id);
        if (r < 0)
                return server_log_error(r, "%s: %s", o->signing_key, strerror(-r));
        r = server_tls_load(&s, o->tls_cert, o->tls_key, &err);
        if (r < 0)
                return server_log_error(r, "%s", core_error_message(&err, r));
        r = storage_open_with(o->db, &o->storage, &s.storage, &err);
        if (r < 0)
                return server_log_error(r, "%s", core_error_message(&err, r));
        r = server_page_init(&s.page);
        if (r < 0)
                return server_log_error(r, "cannot build the offline page: %s", strerror(-r));
        if (!o->portal.disabled) {
                r = portal_new(&o->portal, &s.portal);
                if (r < 0)
                        return server_log_error(r, "cannot set up the customer portal: %s", strerror(-r));
        }

        /* Block the signals before the worker threads exist, so they
         * inherit the mask and only sigwait() below sees them. */
        sigemptyset(&mask);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGHUP);
        pthread_sigmask(SIG_BLOCK, &mask, NULL);
        signal(SIGPIPE, SIG_IGN);

        r = server_http_start(&s, &err);
        if (r < 0)
                return server_log_error(r, "%s: %s", o->listen, core_error_message(&err, r));
        server_http_url(&s, url, sizeof(url));
        if (o->metrics_listen) {
                r = server_metrics_start(&s.metrics, &err);
                if (r < 0)
                        return server_log_error(r, "--metrics-listen %s: %s", o->metrics_listen,
                                            core_error_message(&err, r));
                server_metrics_url(&s.metrics, metrics_url, sizeof(metrics_url));
                server_log("metrics on %s", metrics_url);
        }
        if (s.portal)
                server_log("customer portal on %s/portal (sign-out after %u s idle, %u releases per 30 days%s)", url,
                           o->portal.idle_sec, o->portal.release_limit, o->portal.release_limit ? "" : ": no limit");
        else
                server_log("customer portal: off (--no-portal)");
        if (s.ratelimit)
                server_log("rate limit: %g requests a second per client address after a burst of %u", o->rate,
                           o->burst);
        else
                server_log("rate limit: off");
        /* The URI's password stays out of the log. */
        db_name = storage_path_redact(o->db);
        server_event(SERVER_EVENT_STARTED, LOG_NOTICE, NULL, "listening on %s (database %s, signing key %s)", url,
                     db_name ?: "?", key_id);
        if (s.admin_separate) {
                char admin_url[128];

                server_http_admin_url(&s, admin_url, sizeof(admin_url));
                server_log("admin API on %s only", admin_url);
        }
        sd_notifyf(false, "READY=1\nSTATUS=Listening on %s", url);

        wait_for_signal(&s, &mask);
        sd_notify(false, "STOPPING=1");
        return 0;
}

int main(int argc, char *argv[]) {
        Options o = {
                .listen = DEFAULT_LISTEN,
                .threads = DEFAULT_THREADS,
                .timeout_sec = DEFAULT_TIMEOUT_SEC,
                .burst = DEFAULT_BURST,
                .portal = {.idle_sec = PORTAL_IDLE_SEC_DEFAULT, .release_limit = PORTAL_RELEASE_LIMIT_DEFAULT},
        };
        CoreError err = {};
        int r;

        server_log_init();
        r = ratelimit_parse_rate(DEFAULT_RATE, &o.rate, &err);
        assert(r == 0);

        r = parse_argv(argc, argv, &o);
        if (r <= 0)
                return r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
        r = run(&o);
        return r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
