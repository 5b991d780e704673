/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Ed25519 through OpenSSL's EVP interface. Public keys travel as raw 32
 * bytes (base64 in text); private keys live in PKCS#8 PEM files, mode 0600.
 * A key id is the first 8 bytes of SHA-256 over the raw public key, in hex:
 * short enough to print, long enough to pick among a product's few keys. */

#include <openssl/evp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

#define ED25519_PUBLIC_KEY_SIZE 32
#define ED25519_SIGNATURE_SIZE 64
#define KEY_ID_STRING_SIZE 17 /* 16 hex digits + NUL */

DEFINE_TRIVIAL_CLEANUP_FUNC(EVP_PKEY *, EVP_PKEY_free);
#define _cleanup_pkey_ _cleanup_(EVP_PKEY_freep)

int ed25519_generate(EVP_PKEY **ret);

int ed25519_public_raw(EVP_PKEY *key, uint8_t out[static ED25519_PUBLIC_KEY_SIZE]);
int ed25519_public_from_raw(const uint8_t raw[static ED25519_PUBLIC_KEY_SIZE], EVP_PKEY **ret);

/* Base64 of the raw public key, malloc'd. */
int ed25519_public_base64(EVP_PKEY *key, char **ret);
int ed25519_public_from_base64(const char *b64, EVP_PKEY **ret, CoreError *err);

void key_id_from_raw(const uint8_t raw[static ED25519_PUBLIC_KEY_SIZE], char out[static KEY_ID_STRING_SIZE]);
int key_id_from_key(EVP_PKEY *key, char out[static KEY_ID_STRING_SIZE]);

int ed25519_sign(EVP_PKEY *key, const void *data, size_t len, uint8_t sig[static ED25519_SIGNATURE_SIZE]);

/* Returns 0 if the signature is good, -EBADMSG if not. */
int ed25519_verify(EVP_PKEY *key, const void *data, size_t len, const uint8_t *sig, size_t sig_len);

/* Fills buf with cryptographically random bytes. */
int random_bytes(void *buf, size_t len);
