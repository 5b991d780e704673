/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* licensed: the license manager daemon. main() only parses the command
 * line and maps run()'s result to an exit code. */

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "build-info.h"
#include "context.h"
#include "hardware-id.h"
#include "log.h"
#include "report-error.h"

#define MAX_PRODUCT_DIRS 8

static const char *const help =
        "licensed [OPTIONS]\n"
        "\n"
        "The license manager daemon. Normally started by D-Bus activation through\n"
        "licensed.service; run by hand for tests and demos.\n"
        "\n"
        "  -h --help                Show this help\n"
        "     --version             Show the version\n"
        "     --bus-address=ADDRESS Serve on this bus instead of the system bus\n"
        "     --state-dir=DIR       Default: " STATE_DIR "\n"
        "     --runtime-dir=DIR     Default: " RUNTIME_DIR "\n"
        "     --config=FILE         Default: " CONFIG_FILE "\n"
        "     --products-dir=DIR    Read products from DIR (repeatable, later wins);\n"
        "                           default: " VENDOR_PRODUCTS_DIR " then\n"
        "                           " ADMIN_PRODUCTS_DIR "\n"
        "  -v --verbose             Log debug messages\n"
        "     --write-hardware-id=PATH\n"
        "                           Only write the hardware id of trial requests,\n"
        "                           derived from " DMI_PRODUCT_UUID_PATH ",\n"
        "                           to PATH (or remove PATH if there is none) and exit;\n"
        "                           needs root\n";

static int parse_argv(int argc, char *argv[], Options *o, const char **dirs, const char **write_hardware_id) {
        enum { ARG_VERSION = 0x100, ARG_BUS, ARG_STATE, ARG_RUNTIME, ARG_CONFIG, ARG_PRODUCTS,
               ARG_WRITE_HARDWARE_ID };
        static const struct option options[] = {
                {"help", no_argument, NULL, 'h'},
                {"version", no_argument, NULL, ARG_VERSION},
                {"bus-address", required_argument, NULL, ARG_BUS},
                {"state-dir", required_argument, NULL, ARG_STATE},
                {"runtime-dir", required_argument, NULL, ARG_RUNTIME},
                {"config", required_argument, NULL, ARG_CONFIG},
                {"products-dir", required_argument, NULL, ARG_PRODUCTS},
                {"verbose", no_argument, NULL, 'v'},
                {"write-hardware-id", required_argument, NULL, ARG_WRITE_HARDWARE_ID},
                {},
        };
        int c;

        while ((c = getopt_long(argc, argv, "hv", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        fputs(help, stdout);
                        return 0;
                case ARG_VERSION:
                        printf("licensed %s\n", PACKAGE_VERSION);
                        return 0;
                case ARG_BUS: o->bus_address = optarg; break;
                case ARG_STATE: o->state_dir = optarg; break;
                case ARG_RUNTIME: o->runtime_dir = optarg; break;
                case ARG_CONFIG: o->config_file = optarg; break;
                case ARG_PRODUCTS:
                        if (o->n_product_dirs >= MAX_PRODUCT_DIRS) {
                                return report_error(-EINVAL, "at most %d --products-dir", MAX_PRODUCT_DIRS);
                        }
                        dirs[o->n_product_dirs++] = optarg;
                        break;
                case 'v': log_set_max_level(LOG_DEBUG); break;
                case ARG_WRITE_HARDWARE_ID: *write_hardware_id = optarg; break;
                default: return -EINVAL;
                }
        if (optind < argc) {
                return report_error(-EINVAL, "unexpected argument '%s'", argv[optind]);
        }
        if (o->n_product_dirs == 0) {
                dirs[o->n_product_dirs++] = VENDOR_PRODUCTS_DIR;
                dirs[o->n_product_dirs++] = ADMIN_PRODUCTS_DIR;
        }
        o->product_dirs = dirs;
        return 1;
}

/* licensed.service runs this as root before the daemon (ExecStartPre=+):
 * a machine without a usable UUID is no failure, it only has no hardware
 * id, so the daemon still starts. */
static int write_hardware_id_file(const char *path) {
        int why = 0, r;

        r = hardware_id_write(DMI_PRODUCT_UUID_PATH, path, &why);
        if (r < 0)
                return report_error(r, "could not write the hardware id to %s: %m", path);
        if (r == 0)
                log_info("No usable system UUID in %s (%s): trial requests carry no hardware id.",
                         DMI_PRODUCT_UUID_PATH,
                         why == -ENOENT    ? "there is none"
                         : why == -ENODATA ? "a placeholder firmware writes when none was set"
                         : why == -EINVAL  ? "not a UUID"
                                           : strerror(-why));
        return 0;
}

static int run(int argc, char *argv[]) {
        _cleanup_(context_freep) Context *c = NULL;
        const char *dirs[MAX_PRODUCT_DIRS], *write_hardware_id = NULL;
        Options o = {
                .state_dir = STATE_DIR,
                .runtime_dir = RUNTIME_DIR,
                .config_file = CONFIG_FILE,
        };
        int r;

        r = parse_argv(argc, argv, &o, dirs, &write_hardware_id);
        if (r <= 0)
                return r;
        if (write_hardware_id)
                return write_hardware_id_file(write_hardware_id);
        r = context_new(&o, &c);
        if (r < 0)
                return r;
        return context_run(c);
}

int main(int argc, char *argv[]) {
        return run(argc, argv) < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
