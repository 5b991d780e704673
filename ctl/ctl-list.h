/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The installed licenses and the known products as ListLicenses and
 * ListProducts give them, shared by "list", "status", "products" and
 * "activate". */

#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>
#include <systemd/sd-bus.h>

#include "licensectl.h"

typedef struct LicenseRow {
        /* These point into the reply message. */
        const char *id;
        const char *product;
        const char *licensee;
        const char *status;
        uint64_t expires;
        const char *path;
} LicenseRow;

/* Calls ListLicenses; keeps only the rows matching --product/--status (if
 * filter) and sorts them as --sort says. Returns an exit status. */
int ctl_list_licenses(Ctl *c, bool filter, sd_bus_message **ret_reply, LicenseRow **ret_rows, size_t *ret_n);

json_object *license_row_to_json(const LicenseRow *l);

/* Parses --columns: names separated by commas, a leading + adds them to the
 * usual columns. Says why not and returns -EINVAL. */
int list_columns_parse(const char *text, ListColumn columns[static LIST_COLUMNS_MAX], size_t *ret_n);

typedef struct ProductRow {
        /* These point into the reply message; "" where not set. */
        const char *id;
        const char *name;
        const char *server_url;
        const char *offline_url;
} ProductRow;

/* Calls ListProducts. Returns an exit status. */
int ctl_list_products(Ctl *c, sd_bus_message **ret_reply, ProductRow **ret_rows, size_t *ret_n);
