/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <openssl/evp.h>

#include "base64.h"

char *base64_encode(const uint8_t *data, size_t len) {
        char *out;

        if (len > (size_t) INT32_MAX / 2)
                return NULL;
        out = malloc(4 * ((len + 2) / 3) + 1);
        if (!out)
                return NULL;
        EVP_EncodeBlock((unsigned char *) out, data, (int) len);
        return out;
}

/* The symbol's 6-bit value, or -1 for a character outside the alphabet. */
static int b64_value(char c) {
        if (c >= 'A' && c <= 'Z')
                return c - 'A';
        if (c >= 'a' && c <= 'z')
                return c - 'a' + 26;
        if (c >= '0' && c <= '9')
                return c - '0' + 52;
        return c == '+' ? 62 : c == '/' ? 63 : -1;
}

int base64_decode(const char *text, size_t len, uint8_t **ret, size_t *ret_len, CoreError *err) {
        _cleanup_free_ uint8_t *out = NULL;
        size_t pad = 0;
        int n;

        assert(text || len == 0);
        assert(ret);
        assert(ret_len);

        if (len % 4 != 0)
                return core_error_set(err, EBADMSG, "base64 text has %zu characters, not a multiple of 4 "
                                                    "(truncated or damaged?)", len);
        if (len > (size_t) INT32_MAX)
                return core_error_set(err, E2BIG, "base64 text is too long");

        /* EVP_DecodeBlock tolerates things we don't (and can't tell us how
         * much padding there was), so validate the alphabet ourselves. */
        for (size_t i = 0; i < len; i++) {
                if (text[i] == '=' && i >= len - 2) {
                        pad++;
                        continue;
                }
                if (b64_value(text[i]) < 0 || pad > 0)
                        return core_error_set(err, EBADMSG, "invalid base64 character at offset %zu", i);
        }
        if (pad == 1 && text[len - 1] != '=')
                return core_error_set(err, EBADMSG, "misplaced base64 padding");
        /* Before padding, the last symbol carries bits that encode nothing
         * (4 with "==", 2 with "="). Decoders ignore them, so they must be
         * zero: otherwise several texts would decode to the same bytes, and
         * a document would have more than one accepted encoding. */
        if (pad > 0 && (b64_value(text[len - pad - 1]) & (pad == 2 ? 0x0f : 0x03)) != 0)
                return core_error_set(err, EBADMSG,
                                      "base64 text is not canonical: the unused bits of its last character "
                                      "(offset %zu) are not zero",
                                      len - pad - 1);

        out = malloc(len / 4 * 3 + 1);
        if (!out)
                return -ENOMEM;
        n = len ? EVP_DecodeBlock(out, (const unsigned char *) text, (int) len) : 0;
        if (n < 0)
                return core_error_set(err, EBADMSG, "invalid base64 text");
        n -= (int) pad;
        out[n] = 0;
        *ret = TAKE_PTR(out);
        *ret_len = (size_t) n;
        return 0;
}
