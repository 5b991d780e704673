/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* licensed-vendor: one file per group of verbs, this header ties them to
 * the dispatcher in vendor.c. */

#include <stdbool.h>
#include <stddef.h>
#include <json-c/json.h>

#include "license.h"
#include "report-error.h"

typedef struct VendorOptions {
        bool json;
} VendorOptions;

int verb_keygen(int argc, char *argv[], void *userdata);
int verb_key(int argc, char *argv[], void *userdata);
int verb_issue(int argc, char *argv[], void *userdata);
int verb_inspect(int argc, char *argv[], void *userdata);
int verb_answer(int argc, char *argv[], void *userdata);
int verb_receipt(int argc, char *argv[], void *userdata);
/* check-proof and check-request */
int verb_check(int argc, char *argv[], void *userdata);
/* The activation server's database (vendor-admin.c): entitlement create,
 * entitlement list, activations, revoke, upgrade, release. */
int verb_entitlement(int argc, char *argv[], void *userdata);
int verb_activations(int argc, char *argv[], void *userdata);
int verb_revoke(int argc, char *argv[], void *userdata);
int verb_upgrade(int argc, char *argv[], void *userdata);
int verb_release(int argc, char *argv[], void *userdata);
int verb_products(int argc, char *argv[], void *userdata);
int verb_trial(int argc, char *argv[], void *userdata);
/* Admin API tokens (vendor-token.c): token create, list, revoke. */
int verb_token(int argc, char *argv[], void *userdata);

/* vendor-remote.c: one call of licensed-server's admin API at server (a base
 * URL) with token: method, path, and in as the query (GET) or the JSON body
 * (POST); HTTPS certificates checked against ca_file, or the system's CAs
 * if NULL. Returns 0 and the answer, or negative errno with the server's
 * message (or why there is none) in err. */
int vendor_remote_call(const char *server, const char *token, const char *ca_file, const char *method,
                       const char *path, json_object *in, json_object **ret, CoreError *err);
/* The token: the first line of token_file, or $LICENSED_TOKEN if
 * token_file is NULL. */
int vendor_remote_token(const char *token_file, char **ret, CoreError *err);

/* 'issue' and 'answer' share their options, spec file and signing
 * (vendor-issue.c). */
typedef struct LicenseArgs {
        const char *verb;  /* for messages */
        const char *help;  /* printed for --help */
        bool want_request; /* accept --request FILE */
        /* filled in from the options: */
        const char *signing_key;
        const char *output;
        const char *request;
} LicenseArgs;

/* Parses the options, loads --spec and applies the field flags over it into
 * l (which it initializes); issued defaults to now. Returns 0, 1 if --help
 * was printed, or negative errno after printing the error. */
int vendor_license_from_argv(int argc, char *argv[], LicenseArgs *args, License *l);

/* Checks l (vendor_license_check), signs it with the private key in
 * signing_key, and writes it to output (atomically) or stdout. Prints its
 * errors. */
int vendor_license_sign(const char *verb, const License *l, const char *signing_key, const char *output);

/* Checks that l has id, product and licensee and that its body parses as
 * the receiving side will parse it. Prints its errors. */
int vendor_license_check(const char *verb, const License *l);

/* Reads an armored document from path ("-": stdin), at most ARMOR_MAX_SIZE.
 * Prints its errors. */
int vendor_read_document(const char *verb, const char *path, char **ret, size_t *ret_len);

/* Writes text to output atomically (mode 0644), or to stdout if output is
 * NULL. Prints its errors. */
int vendor_write_output(const char *verb, const char *output, const char *text);

/* A verb of two words ("token create"): the second word's function. */
typedef struct VendorSubverb {
        const char *name;
        int (*run)(int argc, char *argv[], VendorOptions *o);
} VendorSubverb;

/* Runs the subverb argv[1] names (with argv + 1), prints help for -h, or
 * says which subverbs there are. */
int vendor_subverb(const char *verb, const VendorSubverb *table, size_t n, const char *help, int argc, char *argv[],
                   VendorOptions *o);

/* getopt_long must restart for each verb. */
void verb_getopt_reset(void);
