/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* licensed-vendor keygen / key new / key check */

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "crypto.h"
#include "fileio.h"
#include "key-file.h"
#include "license-key.h"
#include "vendor.h"

int verb_keygen(int argc, char *argv[], void *userdata) {
        static const struct option options[] = {
                {"help", no_argument, NULL, 'h'},
                {"output", required_argument, NULL, 'o'},
                {"force", no_argument, NULL, 'f'},
                {},
        };
        _cleanup_pkey_ EVP_PKEY *key = NULL;
        _cleanup_free_ char *pub = NULL, *keypath = NULL, *pubpath = NULL, *publine = NULL;
        char key_id[KEY_ID_STRING_SIZE];
        const char *prefix = NULL;
        bool force = false;
        CoreError err = {};
        int c, r;

        verb_getopt_reset();
        while ((c = getopt_long(argc, argv, "ho:f", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        printf("licensed-vendor keygen --output PREFIX [--force]\n\n"
                               "Creates PREFIX.key (Ed25519 private key, PEM, mode 0600) and PREFIX.pub\n"
                               "(the public key in base64, for products.d 'trusted_keys'). Keep the .key\n"
                               "file secret: whoever has it can issue licenses.\n");
                        return 0;
                case 'o':
                        prefix = optarg;
                        break;
                case 'f':
                        force = true;
                        break;
                default:
                        return -EINVAL;
                }
        if (optind < argc)
                return report_error(-EINVAL, "keygen: unexpected argument '%s'", argv[optind]);
        if (!prefix)
                return report_error(-EINVAL, "keygen: --output PREFIX is required");

        if (asprintf(&keypath, "%s.key", prefix) < 0 || asprintf(&pubpath, "%s.pub", prefix) < 0)
                return -ENOMEM;
        if (!force && (access(keypath, F_OK) == 0 || access(pubpath, F_OK) == 0))
                return report_error(-EEXIST,
                                    "keygen: %s or %s exists already; refusing to overwrite a signing "
                                    "key (use --force if you mean it)",
                                    keypath, pubpath);

        r = ed25519_generate(&key);
        if (r < 0)
                return report_error(r, "keygen: cannot generate a key: %s", strerror(-r));
        r = ed25519_save_private(key, keypath, &err);
        if (r < 0)
                return report_error(r, "keygen: %s", core_error_message(&err, r));
        r = ed25519_public_base64(key, &pub);
        if (r < 0)
                return report_error(r, "keygen: %s", strerror(-r));
        if (asprintf(&publine, "%s\n", pub) < 0)
                return -ENOMEM;
        r = write_file_atomic(pubpath, publine, strlen(publine), 0644);
        if (r < 0)
                return report_error(r, "keygen: cannot write %s: %s", pubpath, strerror(-r));
        r = key_id_from_key(key, key_id);
        if (r < 0)
                return r;

        printf("Private key: %s (keep it secret)\nPublic key:  %s\nKey id:      %s\n", keypath, pubpath, key_id);
        return 0;
}

static int key_new(int argc, char *argv[]) {
        static const struct option options[] = {
                {"help", no_argument, NULL, 'h'},
                {"count", required_argument, NULL, 'n'},
                {},
        };
        long count = 1;
        char *end;
        int c, r;

        verb_getopt_reset();
        while ((c = getopt_long(argc, argv, "hn:", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        printf("licensed-vendor key new [--count N]\n\nPrints N (default 1, at most 10000) new "
                               "random license keys, one per line.\n");
                        return 0;
                case 'n':
                        errno = 0;
                        count = strtol(optarg, &end, 10);
                        if (errno || *end || count < 1 || count > 10000)
                                return report_error(-EINVAL, "key new: --count must be 1..10000");
                        break;
                default:
                        return -EINVAL;
                }
        if (optind < argc)
                return report_error(-EINVAL, "key new: unexpected argument '%s'", argv[optind]);
        for (long i = 0; i < count; i++) {
                char key[LICENSE_KEY_STRING_SIZE];
                r = license_key_generate(key);
                if (r < 0)
                        return report_error(r, "key new: cannot get random bytes");
                puts(key);
        }
        return 0;
}

static int key_check(int argc, char *argv[]) {
        char key[LICENSE_KEY_STRING_SIZE];
        CoreError err = {};
        int r;

        if (argc == 2 && (streq(argv[1], "--help") || streq(argv[1], "-h"))) {
                printf("licensed-vendor key check KEY\n\nChecks a typed license key and prints it in canonical "
                       "form, or names the group with the typo.\n");
                return 0;
        }
        if (argc != 2)
                return report_error(-EINVAL, "key check: exactly one KEY is needed");
        r = license_key_normalize(argv[1], key, &err);
        if (r < 0)
                return report_error(r, "%s", core_error_message(&err, r));
        puts(key);
        return 0;
}

int verb_key(int argc, char *argv[], void *userdata) {
        if (streq(argv[1], "--help") || streq(argv[1], "-h")) {
                printf("licensed-vendor key new [--count N]   print new license keys\n"
                       "licensed-vendor key check KEY         check a typed key, print it canonical\n");
                return 0;
        }
        if (streq(argv[1], "new"))
                return key_new(argc - 1, argv + 1);
        if (streq(argv[1], "check"))
                return key_check(argc - 1, argv + 1);
        return report_error(-EINVAL, "key: unknown subcommand '%s' (new, check)", argv[1]);
}
