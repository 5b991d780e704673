/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* licensectl: the administrator's CLI for licensed, in the manner of
 * hostnamectl. Options, the help text, verb dispatch. */

#include <getopt.h>

#include "build-info.h"
#include "ctl-list.h"
#include "ctl-output.h"
#include "ctl-polkit-agent.h"
#include "licensectl.h"
#include "timeutil.h"
#include "verbs.h"

static const char help_text[] =
        "licensectl [OPTIONS...] COMMAND ...\n"
        "\n"
        "Activate, inspect and check the software licenses of this machine.\n"
        "\n"
        "Commands:\n"
        "  status                   Show the licensing state of this machine (default)\n"
        "  list                     List the installed licenses\n"
        "  show ID                  Show everything about one license\n"
        "  products                 List the products this machine knows\n"
        "  activate KEY             Activate a product with a license key\n"
        "  trial PRODUCT            Start the product's trial (once per machine)\n"
        "  install FILE|-           Install a license or a validation receipt\n"
        "  deactivate ID            Remove a license, print the proof for the vendor\n"
        "  validate [ID]            Validate licenses with their server now\n"
        "  check PRODUCT FEATURE    Tell whether a feature is licensed (see below)\n"
        "  export ID                Print a license as installed\n"
        "  site join URL            Join a floating-license site server (--token, --fingerprint)\n"
        "  site leave               Leave it\n"
        "  site status              Seats per feature at the site, and the leases (all of\n"
        "                           them for an administrator of the site)\n"
        "  site release LEASE       Free a lease at the site (this machine's, or any for\n"
        "                           an administrator)\n"
        "  borrow PRODUCT FEATURE   Borrow a floating seat for offline use (--for DURATION)\n"
        "  return PRODUCT FEATURE|LEASE\n"
        "                           Give a borrowed seat back early\n"
        "\n"
        "Options:\n"
        "  -h --help                Show this help\n"
        "     --version             Show the version\n"
        "     --json                Print JSON where a command prints data\n"
        "     --no-ask-password     Do not ask for a password to authorize a change\n"
        "     --no-pager            Do not pipe output into a pager\n"
        "     --no-legend           Do not print column headers and footers\n"
        "     --bus-address=ADDRESS Talk to licensed on this bus, not the system bus\n"
        "     --product=PRODUCT     list: only this product; activate: the product\n"
        "     --status=STATUS       list: only licenses with this status\n"
        "     --sort=FIELD          list: sort by id, expiry, product, status or licensee\n"
        "     --columns=LIST        list: the columns, e.g. id,type,maintenance,usage,\n"
        "                           last-validation; +LIST adds to the usual ones\n"
        "     --grep=TEXT           list: only licenses with TEXT in a field (any case)\n"
        "     --offline             activate, trial, deactivate, validate: no network, a request\n"
        "                           to carry to the vendor instead\n"
        "  -o --output=FILE         activate/trial/validate --offline, deactivate, export:\n"
        "                           write the document to FILE\n"
        "     --qr=auto|always|never\n"
        "                           activate/trial/validate/deactivate --offline: show the\n"
        "                           offline page's link with the request as a QR code\n"
        "  -q --quiet               check: print nothing, answer with the exit status\n"
        "     --release-date=DATE   check: release date of the asking version\n"
        "     --token=TOKEN         site join: the join token from the site server\n"
        "     --fingerprint=SHA256  site join: the site certificate's fingerprint to pin\n"
        "     --for=DURATION        borrow: how long, e.g. 3d (the site caps it)\n"
        "\n"
        "Exit status:\n"
        "  0  success; check: licensed (also in a grace period)\n"
        "  1  check: not licensed; validate: a license failed or was revoked\n"
        "  2  usage error\n"
        "  3  cannot ask licensed (no bus, no daemon, no answer in time)\n"
        "  4  any other error\n"
        "\n"
        "See licensectl(1).\n";

/* Verb options, and which verbs take them. */
enum {
        OPT_PRODUCT = 1 << 0,
        OPT_STATUS = 1 << 1,
        OPT_SORT = 1 << 2,
        OPT_OFFLINE = 1 << 3,
        OPT_OUTPUT = 1 << 4,
        OPT_QR = 1 << 5,
        OPT_QUIET = 1 << 6,
        OPT_RELEASE_DATE = 1 << 7,
        OPT_COLUMNS = 1 << 8,
        OPT_GREP = 1 << 9,
        OPT_TOKEN = 1 << 10,
        OPT_FINGERPRINT = 1 << 11,
        OPT_FOR = 1 << 12,
};

static const char *const option_names[] = {
        "--product", "--status", "--sort", "--offline", "--output", "--qr", "--quiet", "--release-date",
        "--columns", "--grep", "--token", "--fingerprint", "--for",
};

static const struct {
        const char *verb;
        unsigned options;
} verb_options[] = {
        {"status", 0},
        {"list", OPT_PRODUCT | OPT_STATUS | OPT_SORT | OPT_COLUMNS | OPT_GREP},
        {"show", 0},
        {"products", 0},
        {"activate", OPT_PRODUCT | OPT_OFFLINE | OPT_OUTPUT | OPT_QR},
        {"trial", OPT_OFFLINE | OPT_OUTPUT | OPT_QR},
        {"install", 0},
        {"deactivate", OPT_OFFLINE | OPT_OUTPUT | OPT_QR},
        {"validate", OPT_OFFLINE | OPT_OUTPUT | OPT_QR},
        {"check", OPT_QUIET | OPT_RELEASE_DATE},
        {"export", OPT_OUTPUT},
        {"site", OPT_TOKEN | OPT_FINGERPRINT},
        {"borrow", OPT_FOR},
        {"return", 0},
};

static int check_verb_options(const char *verb, unsigned given) {
        for (size_t i = 0; i < ELEMENTSOF(verb_options); i++) {
                unsigned extra;

                if (!streq(verb, verb_options[i].verb))
                        continue;
                extra = given & ~verb_options[i].options;
                if (extra == 0)
                        return 0;
                return report_error(CTL_EXIT_USAGE, "%s does not apply to '%s'; see 'licensectl --help'.",
                                    option_names[__builtin_ctz(extra)], verb);
        }
        return 0; /* an unknown verb: dispatch_verb() says so */
}

static const char *const sort_words[] = {
        [SORT_ID] = "id",
        [SORT_EXPIRY] = "expiry",
        [SORT_PRODUCT] = "product",
        [SORT_STATUS] = "status",
        [SORT_LICENSEE] = "licensee",
};

static const char *const qr_words[] = {
        [QR_AUTO] = "auto",
        [QR_ALWAYS] = "always",
        [QR_NEVER] = "never",
};

static int word_index(const char *word, const char *const words[], size_t n) {
        for (size_t i = 0; i < n; i++)
                if (streq(word, words[i]))
                        return (int) i;
        return -EINVAL;
}

static int parse_argv(int argc, char *argv[], Ctl *c, unsigned *ret_given) {
        enum {
                ARG_VERSION = 0x100,
                ARG_JSON,
                ARG_NO_ASK_PASSWORD,
                ARG_NO_PAGER,
                ARG_NO_LEGEND,
                ARG_BUS_ADDRESS,
                ARG_PRODUCT,
                ARG_STATUS,
                ARG_SORT,
                ARG_OFFLINE,
                ARG_QR,
                ARG_RELEASE_DATE,
                ARG_COLUMNS,
                ARG_GREP,
                ARG_TOKEN,
                ARG_FINGERPRINT,
                ARG_FOR,
        };
        static const struct option options[] = {
                {"help", no_argument, NULL, 'h'},
                {"version", no_argument, NULL, ARG_VERSION},
                {"json", no_argument, NULL, ARG_JSON},
                {"no-ask-password", no_argument, NULL, ARG_NO_ASK_PASSWORD},
                {"no-pager", no_argument, NULL, ARG_NO_PAGER},
                {"no-legend", no_argument, NULL, ARG_NO_LEGEND},
                {"bus-address", required_argument, NULL, ARG_BUS_ADDRESS},
                {"product", required_argument, NULL, ARG_PRODUCT},
                {"status", required_argument, NULL, ARG_STATUS},
                {"sort", required_argument, NULL, ARG_SORT},
                {"offline", no_argument, NULL, ARG_OFFLINE},
                {"output", required_argument, NULL, 'o'},
                {"qr", required_argument, NULL, ARG_QR},
                {"quiet", no_argument, NULL, 'q'},
                {"release-date", required_argument, NULL, ARG_RELEASE_DATE},
                {"columns", required_argument, NULL, ARG_COLUMNS},
                {"grep", required_argument, NULL, ARG_GREP},
                {"token", required_argument, NULL, ARG_TOKEN},
                {"fingerprint", required_argument, NULL, ARG_FINGERPRINT},
                {"for", required_argument, NULL, ARG_FOR},
                {},
        };
        unsigned given = 0;
        CoreError err = {};
        int64_t t;
        int opt, r;

        /* Options may stand anywhere, before or after the verb, as in
         * systemctl: "licensectl list --json" and "licensectl --json list". */
        while ((opt = getopt_long(argc, argv, "ho:q", options, NULL)) >= 0)
                switch (opt) {
                case 'h':
                        fputs(help_text, stdout);
                        return 0;
                case ARG_VERSION:
                        printf("licensectl %s\n", PACKAGE_VERSION);
                        return 0;
                case ARG_JSON:
                        c->json = true;
                        break;
                case ARG_NO_ASK_PASSWORD:
                        c->interactive = false;
                        break;
                case ARG_NO_PAGER:
                        c->pager = false;
                        break;
                case ARG_NO_LEGEND:
                        c->legend = false;
                        break;
                case ARG_BUS_ADDRESS:
                        c->bus_address = optarg;
                        break;
                case ARG_PRODUCT:
                        if (!*optarg)
                                return report_error(-EINVAL, "--product needs a product id.");
                        c->product = optarg;
                        given |= OPT_PRODUCT;
                        break;
                case ARG_STATUS:
                        if (!reason_is_known(optarg))
                                return report_error(
                                        -EINVAL,
                                        "--status=%s: not a status; use one of the reasons listed in "
                                        "licensectl(1), such as licensed, grace or expired.",
                                        optarg);
                        c->status = optarg;
                        given |= OPT_STATUS;
                        break;
                case ARG_SORT:
                        r = word_index(optarg, sort_words, ELEMENTSOF(sort_words));
                        if (r < 0)
                                return report_error(-EINVAL,
                                                    "--sort=%s: sort by id, expiry, product, status or "
                                                    "licensee.",
                                                    optarg);
                        c->sort = (SortBy) r;
                        given |= OPT_SORT;
                        break;
                case ARG_OFFLINE:
                        c->offline = true;
                        given |= OPT_OFFLINE;
                        break;
                case 'o':
                        if (!*optarg)
                                return report_error(-EINVAL,
                                                    "--output needs a file name (or - for stdout).");
                        c->output = optarg;
                        given |= OPT_OUTPUT;
                        break;
                case ARG_QR:
                        r = word_index(optarg, qr_words, ELEMENTSOF(qr_words));
                        if (r < 0)
                                return report_error(-EINVAL, "--qr=%s: use auto, always or never.", optarg);
                        c->qr = (QrMode) r;
                        given |= OPT_QR;
                        break;
                case 'q':
                        c->quiet = true;
                        given |= OPT_QUIET;
                        break;
                case ARG_RELEASE_DATE:
                        r = time_parse_rfc3339(optarg, &t, &err);
                        if (r < 0)
                                return report_error(-EINVAL, "--release-date: %s.",
                                                    core_error_message(&err, r));
                        if (t == 0)
                                return report_error(-EINVAL,
                                                    "--release-date: the epoch is not a release date.");
                        c->release_date = (uint64_t) t * USEC_PER_SEC;
                        given |= OPT_RELEASE_DATE;
                        break;
                case ARG_COLUMNS:
                        r = list_columns_parse(optarg, c->columns, &c->n_columns);
                        if (r < 0)
                                return r; /* said why */
                        given |= OPT_COLUMNS;
                        break;
                case ARG_GREP:
                        if (!*optarg)
                                return report_error(-EINVAL, "--grep needs the text to look for.");
                        c->grep = optarg;
                        given |= OPT_GREP;
                        break;
                case ARG_TOKEN:
                        if (!*optarg)
                                return report_error(-EINVAL, "--token needs the join token.");
                        c->token = optarg;
                        given |= OPT_TOKEN;
                        break;
                case ARG_FINGERPRINT:
                        if (!*optarg)
                                return report_error(-EINVAL, "--fingerprint needs the SHA-256 fingerprint.");
                        c->fingerprint = optarg;
                        given |= OPT_FINGERPRINT;
                        break;
                case ARG_FOR:
                        r = duration_parse(optarg, &t, &err);
                        if (r < 0)
                                return report_error(-EINVAL, "--for=%s: not a duration such as 3d or 12h: %s.",
                                                    optarg, core_error_message(&err, r));
                        if (t <= 0)
                                return report_error(-EINVAL, "--for=%s: a lease is borrowed for some time, such as 3d "
                                                             "or 12h, not for none.",
                                                    optarg);
                        c->borrow_for = t;
                        given |= OPT_FOR;
                        break;
                case '?':
                        return -EINVAL; /* getopt_long() has said what */
                default:
                        assert(!"unhandled option");
                        return -EINVAL;
                }

        *ret_given = given;
        return 1;
}

static void ctl_done(Ctl *c) {
        c->bus = sd_bus_flush_close_unref(c->bus);
        polkit_agent_close(c);
}

static int run(int argc, char *argv[]) {
        static const Verb verbs[] = {
                {"status", 1, 1, verb_status},
                {"list", 1, 1, verb_list},
                {"show", 2, 2, verb_show},
                {"products", 1, 1, verb_products},
                {"activate", 2, 2, verb_activate},
                {"trial", 2, 2, verb_trial},
                {"install", 2, 2, verb_install},
                {"deactivate", 2, 2, verb_deactivate},
                {"validate", 1, 2, verb_validate},
                {"check", 3, 3, verb_check},
                {"export", 2, 2, verb_export},
                {"site", 2, 3, verb_site},
                {"borrow", 3, 3, verb_borrow},
                {"return", 2, 3, verb_return},
                {},
        };
        static char *default_argv[] = {(char *) "status", NULL};
        _cleanup_(ctl_done) Ctl c = {
                .interactive = isatty(STDIN_FILENO),
                .pager = true,
                .legend = true,
                .sort = SORT_ID,
                .qr = QR_AUTO,
        };
        unsigned given = 0;
        int r;

        r = parse_argv(argc, argv, &c, &given);
        if (r <= 0)
                return r < 0 ? CTL_EXIT_USAGE : CTL_EXIT_SUCCESS;

        if (optind >= argc) {
                argc = 1;
                argv = default_argv;
                optind = 0;
        }
        r = check_verb_options(argv[optind], given);
        if (r != 0)
                return r;

        r = dispatch_verb("licensectl", argc - optind, argv + optind, verbs, &c);
        /* Verbs return exit statuses; only dispatch_verb() itself returns
         * negative errno, for an unknown verb or a wrong argument count. */
        return r < 0 ? CTL_EXIT_USAGE : r;
}

int main(int argc, char *argv[]) {
        int r;

        r = run(argc, argv);
        pager_close();
        return r;
}
