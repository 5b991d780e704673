/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* What the changing methods do once a caller is authorized. Each either
 * completes fully (state on disk, then memory, then signals) or changes
 * nothing and fills in a named bus error that says what to do. */

#include <systemd/sd-bus.h>

#include "context.h"

/* A LICENSE (new, or a higher revision) or a VALIDATION RECEIPT.
 * expected_nonce, if not NULL, is the nonce of a request this very call
 * sent (online activation): a license answering it is fresh. */
int op_install(Context *c, const char *text, const char *expected_nonce, Entry **ret, sd_bus_error *error);

/* Activation request, step 1. With record_pending (offline), its nonce
 * becomes the product's pending one; online activation keeps it to itself
 * (ret_nonce, 33 bytes) so a pending offline request stays valid. key
 * NULL: a TRIAL REQUEST, answered by a license like an activation. */
int op_request_activation(Context *c, const char *product, const char *key, bool record_pending, char **ret,
                          char *ret_nonce, sd_bus_error *error);

/* Offline validation step 1; returns the armored request. */
int op_request_validation(Context *c, Entry *e, char **ret, sd_bus_error *error);

/* Removes the license; returns the signed deactivation proof. */
int op_deactivate(Context *c, Entry *e, char **ret, sd_bus_error *error);

/* Maps a core error to a named bus error. */
int bus_error_from_core(sd_bus_error *error, int r, const CoreError *err, const char *what);
