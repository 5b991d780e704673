/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* licensed-server: the vendor's activation and validation server. Options,
 * the context's life, and waiting for SIGTERM; main() maps run()'s result
 * to an exit code. See licensed-server(8) and docs/protocol.md. */

#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <systemd/sd-daemon.h>

#include "build-info.h"
#include "key-file.h"
#include "report-error.h"
#include "server.h"

#define DEFAULT_LISTEN "127.0.0.1:7070"
#define DEFAULT_THREADS 16
#define DEFAULT_TIMEOUT_SEC 10

static const char *const help_text =
        "licensed-server --db FILE --signing-key FILE [OPTIONS]\n"
        "\n"
        "Answers machines that activate, validate and deactivate licenses online,\n"
        "and serves the offline activation page. Entitlements are created with\n"
        "'licensed-vendor entitlement create --db FILE'.\n"
        "\n"
        "  --listen ADDRESS:PORT  Where to listen (default " DEFAULT_LISTEN "); IPv6 as\n"
        "                         [::1]:7070; port 0 picks a free port\n"
        "  --db FILE              The SQLite database (created if missing)\n"
        "  --signing-key FILE     The private key the products trust (from keygen)\n"
        "  --tls-cert FILE        Serve HTTPS with this PEM certificate chain...\n"
        "  --tls-key FILE         ...and this PEM private key (mode 0600)\n"
        "  --threads N            Worker threads (default 16)\n"
        "  --timeout SECONDS      Close connections idle this long (default 10)\n"
        "  -h --help              Show this help\n"
        "     --version           Show the version\n"
        "\n"
        "See licensed-server(8).\n";

typedef struct Options {
        const char *listen;
        const char *db;
        const char *signing_key;
        const char *tls_cert;
        const char *tls_key;
        unsigned threads;
        unsigned timeout_sec;
} Options;

static int parse_uint(const char *opt, const char *v, unsigned min, unsigned max, unsigned *ret) {
        char *end;
        unsigned long n;

        errno = 0;
        n = strtoul(v, &end, 10);
        if (errno || !*v || *end || n < min || n > max)
                return report_error(-EINVAL, "%s: '%s' is not a number from %u to %u", opt, v, min, max);
        *ret = (unsigned) n;
        return 0;
}

/* Returns 1 to run, 0 to exit successfully (--help), negative on error. */
static int parse_argv(int argc, char *argv[], Options *o) {
        enum {
                ARG_VERSION = 0x100,
                ARG_LISTEN,
                ARG_DB,
                ARG_SIGNING_KEY,
                ARG_TLS_CERT,
                ARG_TLS_KEY,
                ARG_THREADS,
                ARG_TIMEOUT
        };
        static const struct option options[] = {
                {"help", no_argument, NULL, 'h'},
                {"version", no_argument, NULL, ARG_VERSION},
                {"listen", required_argument, NULL, ARG_LISTEN},
                {"db", required_argument, NULL, ARG_DB},
                {"signing-key", required_argument, NULL, ARG_SIGNING_KEY},
                {"tls-cert", required_argument, NULL, ARG_TLS_CERT},
                {"tls-key", required_argument, NULL, ARG_TLS_KEY},
                {"threads", required_argument, NULL, ARG_THREADS},
                {"timeout", required_argument, NULL, ARG_TIMEOUT},
                {},
        };
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
                default:
                        return -EINVAL;
                }
        if (optind < argc)
                return report_error(-EINVAL, "unexpected argument '%s'", argv[optind]);
        if (!o->db)
                return report_error(-EINVAL, "--db FILE is required (the database licensed-vendor manages)");
        if (!o->signing_key)
                return report_error(-EINVAL, "--signing-key FILE is required (the key the products trust)");
        return 1;
}

static void server_done(Server *s) {
        server_http_stop(s);
        s->storage = storage_close(s->storage);
        EVP_PKEY_free(s->signing_key);
        s->signing_key = NULL;
        server_page_done(&s->page);
        server_tls_done(s);
}

/* Waits for SIGTERM or SIGINT, which every thread blocks. */
static void wait_for_signal(const sigset_t *mask) {
        int sig = 0;

        while (sigwait(mask, &sig) == 0)
                if (sig == SIGTERM || sig == SIGINT)
                        break;
        server_log("signal %s: stopping", sig == SIGINT ? "SIGINT" : "SIGTERM");
}

static int run(const Options *o) {
        _cleanup_(server_done) Server s = {.threads = o->threads, .timeout_sec = o->timeout_sec};
        char url[128], key_id[KEY_ID_STRING_SIZE];
        CoreError err = {};
        sigset_t mask;
        int r;

        r = server_parse_listen(o->listen, &s.listen, &s.listen_len, &err);
        if (r < 0)
                return report_error(r, "%s", core_error_message(&err, r));
        r = ed25519_load_private(o->signing_key, &s.signing_key, &err);
        if (r < 0)
                return report_error(r, "%s", core_error_message(&err, r));
        r = key_id_from_key(s.signing_key, key_id);
        if (r < 0)
                return report_error(r, "%s: %s", o->signing_key, strerror(-r));
        r = server_tls_load(&s, o->tls_cert, o->tls_key, &err);
        if (r < 0)
                return report_error(r, "%s", core_error_message(&err, r));
        r = storage_open(o->db, &s.storage, &err);
        if (r < 0)
                return report_error(r, "%s", core_error_message(&err, r));
        r = server_page_init(&s.page);
        if (r < 0)
                return report_error(r, "cannot build the offline page: %s", strerror(-r));

        /* Block the signals before the worker threads exist, so they
         * inherit the mask and only sigwait() below sees them. */
        sigemptyset(&mask);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        pthread_sigmask(SIG_BLOCK, &mask, NULL);
        signal(SIGPIPE, SIG_IGN);

        r = server_http_start(&s, &err);
        if (r < 0)
                return report_error(r, "%s: %s", o->listen, core_error_message(&err, r));
        server_http_url(&s, url, sizeof(url));
        server_log("listening on %s (database %s, signing key %s)", url, o->db, key_id);
        sd_notifyf(false, "READY=1\nSTATUS=Listening on %s", url);

        wait_for_signal(&mask);
        sd_notify(false, "STOPPING=1");
        return 0;
}

int main(int argc, char *argv[]) {
        Options o = {
                .listen = DEFAULT_LISTEN, .threads = DEFAULT_THREADS, .timeout_sec = DEFAULT_TIMEOUT_SEC};
        int r;

        r = parse_argv(argc, argv, &o);
        if (r <= 0)
                return r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
        r = run(&o);
        return r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
