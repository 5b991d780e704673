/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Admin API tokens (docs/protocol.md, "Admin API"): "lsd_" and 43
 * characters of base64url, 256 random bits. The database keeps the SHA-256
 * of the token; the server hashes what a client presents and compares the
 * hashes in constant time. */

#include "storage.h"

#define ADMIN_TOKEN_PREFIX "lsd_"

/* A new random token (free() it). */
int admin_token_generate(char **ret);

/* SHA-256 of token in lowercase hex. */
int admin_token_hash(const char *token, char out[static TOKEN_HASH_HEX_SIZE]);

/* Checks an Authorization header value ("Bearer TOKEN") for a route that
 * needs scope, at now: 0 and *ret (the token as stored, its last use
 * recorded); -EACCES when the header is missing or malformed or the token
 * unknown, expired or revoked (a 401); -EPERM when the token is good but
 * only for reading (a 403); other negative errno when the database fails.
 * err says which, never with the token in it. */
int admin_token_check(Storage *s, const char *authorization, TokenScope scope, int64_t now, Token *ret,
                      CoreError *err);
