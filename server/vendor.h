/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* licensed-vendor: one file per group of verbs, this header ties them to
 * the dispatcher in vendor.c. */

#include <stdbool.h>

typedef struct VendorOptions {
        bool json;
} VendorOptions;

int verb_keygen(int argc, char *argv[], void *userdata);
int verb_key(int argc, char *argv[], void *userdata);
int verb_issue(int argc, char *argv[], void *userdata);
int verb_inspect(int argc, char *argv[], void *userdata);

/* Prints "licensed-vendor: <message>" to stderr; returns r. */
int vendor_error(int r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* getopt_long must restart for each verb. */
void verb_getopt_reset(void);
