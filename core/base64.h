/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Standard base64 (RFC 4648, with padding) on top of OpenSSL's encoder.
 * The decoder is strict: whitespace must be stripped by the caller (the
 * armor code does that), and any other stray byte is an error. */

#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>

#include "error.h"

/* Returns a NUL-terminated string, or NULL on allocation failure. */
char *base64_encode(const uint8_t *data, size_t len);

/* Decodes exactly `len` characters. *ret is malloc'd (NUL-terminated for
 * convenience, the NUL is not counted in *ret_len). */
int base64_decode(const char *text, size_t len, uint8_t **ret, size_t *ret_len, CoreError *err);
