/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Admin API tokens: making them (licensed-vendor token create) and
 * checking the one a request presents (licensed-server). */

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>

#include "admin-token.h"
#include "timeutil.h"

#define TOKEN_RANDOM_BYTES 32
/* base64url of 32 bytes without padding */
#define TOKEN_TEXT_LEN 43

int admin_token_generate(char **ret) {
        static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        unsigned char raw[TOKEN_RANDOM_BYTES + 2] = {};
        char *t, *p;

        if (RAND_bytes(raw, TOKEN_RANDOM_BYTES) != 1)
                return -EIO;
        t = malloc(strlen(ADMIN_TOKEN_PREFIX) + TOKEN_TEXT_LEN + 1);
        if (!t)
                return -ENOMEM;
        p = stpcpy(t, ADMIN_TOKEN_PREFIX);
        /* Three bytes make four characters; the two zero bytes past the end
         * fill the last group, whose last character is dropped. */
        for (size_t i = 0; i < TOKEN_RANDOM_BYTES; i += 3) {
                uint32_t v = (uint32_t) raw[i] << 16 | (uint32_t) raw[i + 1] << 8 | raw[i + 2];
                for (int k = 3; k >= 0; k--)
                        if ((size_t) (p - t) < strlen(ADMIN_TOKEN_PREFIX) + TOKEN_TEXT_LEN)
                                *p++ = alphabet[(v >> (6 * k)) & 63];
        }
        *p = 0;
        OPENSSL_cleanse(raw, sizeof(raw));
        *ret = t;
        return 0;
}

int admin_token_hash(const char *token, char out[static TOKEN_HASH_HEX_SIZE]) {
        unsigned char md[EVP_MAX_MD_SIZE];
        unsigned md_len = 0;

        if (EVP_Digest(token, strlen(token), md, &md_len, EVP_sha256(), NULL) != 1 || md_len != 32)
                return -EIO;
        for (unsigned i = 0; i < md_len; i++)
                snprintf(out + 2 * i, 3, "%02x", md[i]);
        return 0;
}

int admin_token_check(Storage *s, const char *authorization, TokenScope scope, int64_t now, Token *ret,
                      CoreError *err) {
        _cleanup_(token_done) Token t = {};
        char hash[TOKEN_HASH_HEX_SIZE];
        const char *token;
        int r;

        if (!authorization)
                return core_error_set(err, EACCES, "an Authorization: Bearer token is required");
        if (strncasecmp(authorization, "Bearer ", 7) != 0)
                return core_error_set(err, EACCES, "the Authorization header is not \"Bearer TOKEN\"");
        token = authorization + 7 + strspn(authorization + 7, " ");
        if (!*token || strlen(token) > 256)
                return core_error_set(err, EACCES, "the bearer token is empty or too long");
        r = admin_token_hash(token, hash);
        if (r < 0)
                return r;
        r = storage_token_use(s, hash, now, &t, err);
        if (r == -ENOENT)
                return core_error_set(err, EACCES, "the token is not known to this server");
        if (r < 0)
                return r;
        /* The database found the row by its hash; compare again in constant
         * time, so that no code path compares secrets byte by byte. */
        if (CRYPTO_memcmp(t.hash, hash, TOKEN_HASH_HEX_SIZE - 1) != 0)
                return core_error_set(err, EACCES, "the token is not known to this server");
        if (t.revoked != TIME_UNSET)
                return core_error_set(err, EACCES, "the token '%s' was revoked", t.name);
        if (t.expires != TIME_UNSET && now >= t.expires)
                return core_error_set(err, EACCES, "the token '%s' has expired", t.name);
        if (scope == TOKEN_SCOPE_WRITE && t.scope != TOKEN_SCOPE_WRITE) {
                *ret = t;
                t = (Token){};
                return core_error_set(err, EPERM, "the token '%s' may only read", ret->name);
        }
        *ret = t;
        t = (Token){};
        return 0;
}
