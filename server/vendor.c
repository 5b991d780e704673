/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* licensed-vendor: the vendor's tool to make keys and sign licenses. */

#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "build-info.h"
#include "macro.h"
#include "vendor.h"
#include "verbs.h"

static const char *const help_text =
        "licensed-vendor [OPTIONS] COMMAND ...\n"
        "\n"
        "Make signing keys and license keys, issue and inspect signed licenses.\n"
        "\n"
        "Commands:\n"
        "  keygen --output PREFIX       Create an Ed25519 signing key pair:\n"
        "                               PREFIX.key (private, 0600) and PREFIX.pub\n"
        "  key new [--count N]          Print new license keys for customers\n"
        "  key check KEY                Check a typed license key\n"
        "  issue --signing-key FILE ... Sign a license (see 'licensed-vendor issue --help')\n"
        "  inspect --public-key FILE [LICENSE|-]\n"
        "                               Verify a license and print its fields\n"
        "\n"
        "Options:\n"
        "  -h --help     Show this help\n"
        "     --version  Show the version\n"
        "     --json     Print machine-readable JSON where a command prints data\n"
        "\n"
        "See licensed-vendor(1).\n";

int vendor_error(int r, const char *fmt, ...) {
        va_list ap;

        fputs("licensed-vendor: ", stderr);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputc('\n', stderr);
        return r;
}

void verb_getopt_reset(void) {
        optind = 0; /* GNU: re-initialize, including the permutation state */
}

static int parse_global(int argc, char *argv[], VendorOptions *o) {
        enum { ARG_VERSION = 0x100, ARG_JSON };
        static const struct option options[] = {
                {"help", no_argument, NULL, 'h'},
                {"version", no_argument, NULL, ARG_VERSION},
                {"json", no_argument, NULL, ARG_JSON},
                {},
        };
        int c;

        /* '+': stop at the verb, its options are its own. */
        while ((c = getopt_long(argc, argv, "+h", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        fputs(help_text, stdout);
                        return 0;
                case ARG_VERSION:
                        printf("licensed-vendor %s\n", PACKAGE_VERSION);
                        return 0;
                case ARG_JSON:
                        o->json = true;
                        break;
                default:
                        return -EINVAL;
                }
        return 1;
}

int main(int argc, char *argv[]) {
        static const Verb verbs[] = {
                {"keygen", 1, VERB_ANY, verb_keygen},
                {"key", 2, VERB_ANY, verb_key},
                {"issue", 1, VERB_ANY, verb_issue},
                {"inspect", 1, VERB_ANY, verb_inspect},
                {},
        };
        VendorOptions o = {};
        int r;

        r = parse_global(argc, argv, &o);
        if (r <= 0)
                return r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
        r = dispatch_verb("licensed-vendor", argc - optind, argv + optind, verbs, &o);
        return r < 0 ? EXIT_FAILURE : r;
}
