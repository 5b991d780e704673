/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Armored, signed documents: the text form of licenses, offline requests,
 * receipts and deactivation proofs, built to survive e-mail, paper and USB
 * sticks:
 *
 *   -----BEGIN LICENSED LICENSE-----
 *   Key-Id: 3f2a9c0d41b7e655
 *   Signature: <base64 of the 64-byte Ed25519 signature>
 *
 *   <base64 of the body, wrapped at 64 columns>
 *   -----END LICENSED LICENSE-----
 *
 * The signature covers the exact body bytes. Decoding tolerates CRLF, stray
 * whitespace and indentation, and text before BEGIN / after END (a mail
 * around it); it never looks inside the body. See docs/license-format.md. */

#include <stddef.h>
#include <stdint.h>

#include "crypto.h"
#include "error.h"

/* No armored document may exceed this; a license is a few KiB. */
#define ARMOR_MAX_SIZE (256 * 1024)
#define ARMOR_KIND_MAX 32

typedef struct Armor {
        char kind[ARMOR_KIND_MAX];
        char key_id[KEY_ID_STRING_SIZE];
        uint8_t signature[ED25519_SIGNATURE_SIZE];
        uint8_t *body;
        size_t body_len;
} Armor;

void armor_done(Armor *a);

/* kind is e.g. "LICENSE" or "ACTIVATION REQUEST": upper case and spaces. */
int armor_encode(const char *kind, const char *key_id, const uint8_t sig[static ED25519_SIGNATURE_SIZE],
                 const uint8_t *body, size_t body_len, char **ret);

/* Finds the first armored block in text. If expected_kind is non-NULL, a
 * block of another kind is an error naming both. */
int armor_decode(const char *text, size_t len, const char *expected_kind, Armor *ret, CoreError *err);

/* Signs body with key and armors it. */
int armor_sign(EVP_PKEY *key, const char *kind, const uint8_t *body, size_t body_len, char **ret);

/* armor_sign() for a self-signed document: -EINVAL unless key's public
 * half is public_b64, the key the body names. */
int armor_sign_self(EVP_PKEY *key, const char *public_b64, const char *kind, const uint8_t *body, size_t body_len,
                    char **ret);

/* Verifies a decoded block against key: -ENOKEY if it names another key,
 * -EKEYREJECTED (with a clear message) if the signature does not match.
 * Malformed input is -EBADMSG everywhere else, so callers can tell
 * "damaged or forged" from "not even a document". */
int armor_verify(const Armor *a, EVP_PKEY *key, CoreError *err);

/* For a self-signed document (a machine document, a site request): the key
 * is public_b64, the device key its body names. -ENOKEY if the Key-Id is
 * not that key's ("... in the <noun>"), else as armor_verify(). */
int armor_verify_self_signed(const Armor *a, const char *public_b64, const char *noun, CoreError *err);
