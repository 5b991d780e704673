/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "crypto.h"
#include "license-key.h"

/* Crockford base32: no I, L, O (they read as 1, 1, 0) and no U. A symbol's
 * value is its index here. */
static const char alphabet[32] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

#define DATA_SYMBOLS (LICENSE_KEY_GROUP_LEN - 1)
#define KEY_SYMBOLS (LICENSE_KEY_GROUPS * LICENSE_KEY_GROUP_LEN)
#define CANONICAL_LEN (LICENSE_KEY_STRING_SIZE - 1)

/* Nobody types more than this for a 29 character key; refuse before looking. */
#define INPUT_MAX 200

/* GF(32) with primitive polynomial x^5 + x^2 + 1: multiply by alpha = x. */
static uint8_t gf32_mul_x(uint8_t v) {
        v <<= 1;
        if (v & 0x20)
                v ^= 0x25;
        return v;
}

/* c = g + a^1 v0 + a^2 v1 + a^3 v2 + a^4 v3, evaluated Horner style:
 * ((((v3 a + v2) a + v1) a + v0) a) + g. Group numbers 1..5 are field
 * elements as they are. */
static uint8_t group_check(size_t group, const uint8_t data[static DATA_SYMBOLS]) {
        uint8_t c = 0;

        for (size_t i = DATA_SYMBOLS; i > 0; i--)
                c = gf32_mul_x(c ^ data[i - 1]);

        return c ^ (uint8_t) group;
}

/* Value of a typed character, or -1 if it is not a key symbol. */
static int symbol_value(char ch) {
        const char *p;

        if (ch >= 'a' && ch <= 'z')
                ch = (char) (ch - 'a' + 'A');

        switch (ch) {
        case 'I':
        case 'L':
                return 1;
        case 'O':
                return 0;
        }

        p = memchr(alphabet, ch, sizeof(alphabet));
        return p ? (int) (p - alphabet) : -1;
}

static bool is_blank(char ch) {
        return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' || ch == '\v' || ch == '\f';
}

static int bad_character(char ch, size_t group, CoreError *err) {
        unsigned char u = (unsigned char) ch;

        if (u >= 0x80)
                /* Do not echo part of a multi-byte sequence: the message may
                 * go out over D-Bus, which wants valid UTF-8. */
                return core_error_set(err, EINVAL,
                                      "a non-ASCII character in group %zu is not a license key character",
                                      group);
        if (u < 0x20 || u == 0x7f)
                return core_error_set(err, EINVAL,
                                      "control character 0x%02X in group %zu is not a license key character",
                                      u, group);

        return core_error_set(err, EINVAL, "'%c' in group %zu is not a license key character", ch, group);
}

static void format_key(const uint8_t symbols[static KEY_SYMBOLS], char out[static LICENSE_KEY_STRING_SIZE]) {
        char *p = out;

        for (size_t g = 0; g < LICENSE_KEY_GROUPS; g++) {
                if (g > 0)
                        *p++ = '-';
                for (size_t i = 0; i < LICENSE_KEY_GROUP_LEN; i++)
                        *p++ = alphabet[symbols[g * LICENSE_KEY_GROUP_LEN + i] & 31];
        }
        *p = '\0';
}

int license_key_generate(char out[static LICENSE_KEY_STRING_SIZE]) {
        uint8_t random[LICENSE_KEY_GROUPS * DATA_SYMBOLS], symbols[KEY_SYMBOLS];
        int r;

        r = random_bytes(random, sizeof(random));
        if (r < 0)
                return r;

        for (size_t g = 0; g < LICENSE_KEY_GROUPS; g++) {
                uint8_t *s = symbols + g * LICENSE_KEY_GROUP_LEN;

                /* 256 is a multiple of 32, so the low five bits are uniform. */
                for (size_t i = 0; i < DATA_SYMBOLS; i++)
                        s[i] = random[g * DATA_SYMBOLS + i] & 31;
                s[DATA_SYMBOLS] = group_check(g + 1, s);
        }

        format_key(symbols, out);
        explicit_bzero(random, sizeof(random));
        explicit_bzero(symbols, sizeof(symbols));
        return 0;
}

int license_key_normalize(const char *input, char out[static LICENSE_KEY_STRING_SIZE], CoreError *err) {
        uint8_t symbols[KEY_SYMBOLS] = {};
        size_t group_len[LICENSE_KEY_GROUPS] = {};
        size_t n_symbols = 0, n_groups = 1, cur_len = 0;
        bool dashes;

        if (!input)
                return core_error_set(err, EINVAL, "no license key given");
        if (strnlen(input, INPUT_MAX + 1) > INPUT_MAX)
                return core_error_set(err, EINVAL,
                                      "the input is too long to be a license key (more than %d characters)",
                                      INPUT_MAX);

        /* With dashes, the dashes say where the groups are; without, every
         * five symbols are a group. Whitespace is ignored either way. */
        dashes = strchr(input, '-') != NULL;

        for (const char *p = input; *p; p++) {
                int v;

                if (is_blank(*p))
                        continue;

                if (*p == '-') {
                        if (n_groups <= LICENSE_KEY_GROUPS)
                                group_len[n_groups - 1] = cur_len;
                        n_groups++;
                        cur_len = 0;
                        continue;
                }

                v = symbol_value(*p);
                if (v < 0)
                        return bad_character(*p,
                                             dashes ? n_groups : n_symbols / LICENSE_KEY_GROUP_LEN + 1,
                                             err);

                /* Keep the symbol only if it can land in a well-formed key;
                 * the counts below reject everything else. */
                if (dashes) {
                        if (n_groups <= LICENSE_KEY_GROUPS && cur_len < LICENSE_KEY_GROUP_LEN)
                                symbols[(n_groups - 1) * LICENSE_KEY_GROUP_LEN + cur_len] = (uint8_t) v;
                } else if (n_symbols < KEY_SYMBOLS)
                        symbols[n_symbols] = (uint8_t) v;

                cur_len++;
                n_symbols++;
        }

        if (n_symbols == 0)
                return core_error_set(err, EINVAL, "no license key given");

        if (dashes) {
                if (n_groups <= LICENSE_KEY_GROUPS)
                        group_len[n_groups - 1] = cur_len;

                if (n_groups != LICENSE_KEY_GROUPS)
                        return core_error_set(err, EINVAL, "the key has %zu groups, expected %d",
                                              n_groups, LICENSE_KEY_GROUPS);

                for (size_t g = 0; g < LICENSE_KEY_GROUPS; g++)
                        if (group_len[g] != LICENSE_KEY_GROUP_LEN)
                                return core_error_set(err, EINVAL,
                                                      "group %zu has %zu characters, expected %d",
                                                      g + 1, group_len[g], LICENSE_KEY_GROUP_LEN);
        } else if (n_symbols != KEY_SYMBOLS)
                return core_error_set(err, EINVAL,
                                      "the key has %zu characters, expected %d (%d groups of %d)",
                                      n_symbols, KEY_SYMBOLS, LICENSE_KEY_GROUPS, LICENSE_KEY_GROUP_LEN);

        for (size_t g = 0; g < LICENSE_KEY_GROUPS; g++) {
                const uint8_t *s = symbols + g * LICENSE_KEY_GROUP_LEN;

                if (group_check(g + 1, s) != s[DATA_SYMBOLS])
                        return core_error_set(
                                err, EINVAL,
                                "group %zu looks wrong (check symbol does not match): please retype it",
                                g + 1);
        }

        format_key(symbols, out);
        explicit_bzero(symbols, sizeof(symbols));
        return 0;
}

void license_key_mask(const char *canonical, char out[static LICENSE_KEY_STRING_SIZE]) {
        static const char all_masked[] = "*****-*****-*****-*****-*****";
        const size_t last = (LICENSE_KEY_GROUPS - 1) * (LICENSE_KEY_GROUP_LEN + 1);

        _Static_assert(sizeof(all_masked) == LICENSE_KEY_STRING_SIZE, "mask template size");

        memcpy(out, all_masked, sizeof(all_masked));

        /* Anything not shaped like a canonical key is shown fully masked
         * rather than partly leaked. */
        if (!canonical || strnlen(canonical, LICENSE_KEY_STRING_SIZE) != CANONICAL_LEN)
                return;

        memcpy(out, canonical, LICENSE_KEY_GROUP_LEN);
        memcpy(out + last, canonical + last, LICENSE_KEY_GROUP_LEN);
}
