/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* licensed-vendor: the vendor's tool to make keys, sign licenses and answer
 * the offline documents machines send (docs/offline.md). */

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "armor.h"
#include "build-info.h"
#include "fileio.h"
#include "macro.h"
#include "vendor.h"
#include "verbs.h"

static const char *const help_text =
        "licensed-vendor [OPTIONS] COMMAND ...\n"
        "\n"
        "Make signing keys and license keys, issue and inspect signed licenses,\n"
        "answer offline requests.\n"
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
        "Offline (air-gapped) machines, see docs/offline.md:\n"
        "  answer --signing-key FILE --request FILE|- ...\n"
        "                               Verify an activation request and sign a license\n"
        "                               bound to the machine that made it\n"
        "  receipt --signing-key FILE --request FILE|- [--revoked]\n"
        "                               Verify a validation request and sign a receipt\n"
        "  check-proof [FILE|-]         Verify a deactivation proof and print it\n"
        "  check-request [FILE|-]       Verify an activation or validation request and\n"
        "                               print it\n"
        "\n"
        "The activation server, through its database (--db FILE|URI) or its admin API\n"
        "(--server URL --token-file FILE, or $LICENSED_TOKEN):\n"
        "  entitlement create --product ID --licensee TEXT [--seats N] ...\n"
        "                               Make a license key the server activates; prints it\n"
        "  entitlement list [--product ID] [--state active|revoked] [--licensee TEXT]\n"
        "                               List the license keys\n"
        "  entitlement show --key KEY   Show one license key\n"
        "  activations [--key KEY]      List the machines that activated\n"
        "  revoke --key KEY             Revoke a key (machines learn it when they validate)\n"
        "  upgrade --key KEY [--feature ...] [--maintenance-until ...] ...\n"
        "                               Change what a key grants (a new revision)\n"
        "  release --key KEY --machine-id MACHINE|--proof FILE\n"
        "                               Free the seat of a lost machine, or the one a\n"
        "                               deactivation proof gives up\n"
        "  products                     List the products the server has keys for\n"
        "  trial reset PRODUCT --machine-id ID|--hardware-id ID\n"
        "                               Let a machine start a trial again (a support case)\n"
        "  token create --db FILE|URI --scope read|write [--name NAME] [--expires TIME]\n"
        "  token list --db FILE|URI | token revoke --db FILE|URI --name NAME\n"
        "                               Tokens of the admin API\n"
        "\n"
        "Options:\n"
        "  -h --help     Show this help\n"
        "     --version  Show the version\n"
        "     --json     Print machine-readable JSON where a command prints data\n"
        "\n"
        "See licensed-vendor(1).\n";

int vendor_read_document(const char *verb, const char *path, char **ret, size_t *ret_len) {
        int r;

        r = streq(path, "-") ? read_stream(stdin, ARMOR_MAX_SIZE, ret, ret_len)
                             : read_file(path, ARMOR_MAX_SIZE, ret, ret_len);
        if (r == -EFBIG)
                return report_error(r, "%s: %s is larger than any signed document (%d bytes max)", verb,
                                    path, ARMOR_MAX_SIZE);
        if (r < 0)
                return report_error(r, "%s: cannot read %s: %s", verb, path, strerror(-r));
        return 0;
}

int vendor_write_output(const char *verb, const char *output, const char *text) {
        int r;

        if (!output) {
                fputs(text, stdout);
                return fflush(stdout) == 0 ? 0 : report_error(-EIO, "%s: cannot write to stdout", verb);
        }
        r = write_file_atomic(output, text, strlen(text), 0644);
        if (r < 0)
                return report_error(r, "%s: cannot write %s: %s", verb, output, strerror(-r));
        return 0;
}

int vendor_subverb(const char *verb, const VendorSubverb *table, size_t n, const char *help, int argc, char *argv[],
                   VendorOptions *o) {
        char names[128] = "";

        for (size_t i = 0; i < n; i++)
                if (streq(argv[1], table[i].name))
                        return table[i].run(argc - 1, argv + 1, o);
        if (streq(argv[1], "-h") || streq(argv[1], "--help")) {
                fputs(help, stdout);
                return 0;
        }
        for (size_t i = 0; i < n; i++)
                snprintf(names + strlen(names), sizeof(names) - strlen(names), "%s%s", i ? ", " : "",
                         table[i].name);
        return report_error(-EINVAL, "%s: unknown subcommand '%s' (%s)", verb, argv[1], names);
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
                {"answer", 1, VERB_ANY, verb_answer},
                {"receipt", 1, VERB_ANY, verb_receipt},
                {"check-proof", 1, VERB_ANY, verb_check},
                {"check-request", 1, VERB_ANY, verb_check},
                {"entitlement", 2, VERB_ANY, verb_entitlement},
                {"activations", 1, VERB_ANY, verb_activations},
                {"revoke", 1, VERB_ANY, verb_revoke},
                {"upgrade", 1, VERB_ANY, verb_upgrade},
                {"release", 1, VERB_ANY, verb_release},
                {"products", 1, VERB_ANY, verb_products},
                {"trial", 2, VERB_ANY, verb_trial},
                {"token", 2, VERB_ANY, verb_token},
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
