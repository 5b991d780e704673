/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Ed25519 private keys in PKCS#8 PEM files, mode 0600: the vendor's
 * signing key and the machine's device key. The keys themselves are core's
 * (crypto.h); opening, checking the mode and writing atomically is file
 * plumbing, so it lives here and core never sees a path. */

#include <openssl/evp.h>

#include "error.h"

/* Reads a PKCS#8 PEM private key; refuses files readable by group/others. */
int ed25519_load_private(const char *path, EVP_PKEY **ret, CoreError *err);

/* Writes a PKCS#8 PEM private key atomically with mode 0600. */
int ed25519_save_private(EVP_PKEY *key, const char *path, CoreError *err);
