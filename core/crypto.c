/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include "base64.h"
#include "crypto.h"

int ed25519_generate(EVP_PKEY **ret) {
        EVP_PKEY_CTX *ctx;
        EVP_PKEY *key = NULL;
        int ok;

        assert(ret);

        ctx = EVP_PKEY_CTX_new_id(EVP_PKEY_ED25519, NULL);
        if (!ctx)
                return -ENOMEM;
        ok = EVP_PKEY_keygen_init(ctx) > 0 && EVP_PKEY_keygen(ctx, &key) > 0;
        EVP_PKEY_CTX_free(ctx);
        if (!ok)
                return -EIO;
        *ret = key;
        return 0;
}

int ed25519_public_raw(EVP_PKEY *key, uint8_t out[static ED25519_PUBLIC_KEY_SIZE]) {
        size_t len = ED25519_PUBLIC_KEY_SIZE;

        assert(key);
        if (EVP_PKEY_get_raw_public_key(key, out, &len) <= 0 || len != ED25519_PUBLIC_KEY_SIZE)
                return -EINVAL;
        return 0;
}

int ed25519_public_from_raw(const uint8_t raw[static ED25519_PUBLIC_KEY_SIZE], EVP_PKEY **ret) {
        EVP_PKEY *key;

        assert(ret);
        key = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, raw, ED25519_PUBLIC_KEY_SIZE);
        if (!key)
                return -EINVAL;
        *ret = key;
        return 0;
}

int ed25519_public_base64(EVP_PKEY *key, char **ret) {
        uint8_t raw[ED25519_PUBLIC_KEY_SIZE];
        char *s;
        int r;

        r = ed25519_public_raw(key, raw);
        if (r < 0)
                return r;
        s = base64_encode(raw, sizeof(raw));
        if (!s)
                return -ENOMEM;
        *ret = s;
        return 0;
}

int ed25519_public_from_base64(const char *b64, EVP_PKEY **ret, CoreError *err) {
        _cleanup_free_ uint8_t *raw = NULL;
        size_t len;
        int r;

        assert(b64);
        r = base64_decode(b64, strlen(b64), &raw, &len, err);
        if (r < 0)
                return r;
        if (len != ED25519_PUBLIC_KEY_SIZE)
                return core_error_set(err, EINVAL, "public key is %zu bytes, an Ed25519 key has 32", len);
        return ed25519_public_from_raw(raw, ret);
}

void key_id_from_raw(const uint8_t raw[static ED25519_PUBLIC_KEY_SIZE], char out[static KEY_ID_STRING_SIZE]) {
        uint8_t digest[SHA256_DIGEST_LENGTH];

        SHA256(raw, ED25519_PUBLIC_KEY_SIZE, digest);
        for (size_t i = 0; i < 8; i++)
                snprintf(out + 2 * i, 3, "%02x", digest[i]);
}

int key_id_from_key(EVP_PKEY *key, char out[static KEY_ID_STRING_SIZE]) {
        uint8_t raw[ED25519_PUBLIC_KEY_SIZE];
        int r;

        r = ed25519_public_raw(key, raw);
        if (r < 0)
                return r;
        key_id_from_raw(raw, out);
        return 0;
}

int ed25519_sign(EVP_PKEY *key, const void *data, size_t len, uint8_t sig[static ED25519_SIGNATURE_SIZE]) {
        EVP_MD_CTX *ctx;
        size_t siglen = ED25519_SIGNATURE_SIZE;
        int ok;

        assert(key);
        ctx = EVP_MD_CTX_new();
        if (!ctx)
                return -ENOMEM;
        /* Ed25519 is a one-shot scheme: no digest, the whole message at once. */
        ok = EVP_DigestSignInit(ctx, NULL, NULL, NULL, key) > 0 &&
             EVP_DigestSign(ctx, sig, &siglen, data, len) > 0 && siglen == ED25519_SIGNATURE_SIZE;
        EVP_MD_CTX_free(ctx);
        return ok ? 0 : -EIO;
}

int ed25519_verify(EVP_PKEY *key, const void *data, size_t len, const uint8_t *sig, size_t sig_len) {
        EVP_MD_CTX *ctx;
        int ok;

        assert(key);
        if (sig_len != ED25519_SIGNATURE_SIZE)
                return -EBADMSG;
        ctx = EVP_MD_CTX_new();
        if (!ctx)
                return -ENOMEM;
        ok = EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, key) > 0 &&
             EVP_DigestVerify(ctx, sig, sig_len, data, len) == 1;
        EVP_MD_CTX_free(ctx);
        return ok ? 0 : -EBADMSG;
}

int random_bytes(void *buf, size_t len) {
        if (len > INT32_MAX || RAND_bytes(buf, (int) len) != 1)
                return -EIO;
        return 0;
}
