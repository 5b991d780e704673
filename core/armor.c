/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <ctype.h>

#include "armor.h"
#include "base64.h"
#include "text-check.h"

#define DASHES "-----"
#define WRAP 64

/* "ACTIVATION REQUEST" -> "activation request", for sentences. */
static const char *kind_lower(const char *kind, char buf[static ARMOR_KIND_MAX]) {
        size_t i;

        for (i = 0; kind[i] && i < ARMOR_KIND_MAX - 1; i++)
                buf[i] = (char) ((kind[i] >= 'A' && kind[i] <= 'Z') ? kind[i] + 32 : kind[i]);
        buf[i] = 0;
        return buf;
}

void armor_done(Armor *a) {
        if (!a)
                return;
        free(a->body);
        a->body = NULL;
        a->body_len = 0;
}

static bool kind_is_valid(const char *kind) {
        size_t n = strlen(kind);

        if (n == 0 || n >= ARMOR_KIND_MAX)
                return false;
        for (size_t i = 0; i < n; i++)
                if (!(kind[i] >= 'A' && kind[i] <= 'Z') && kind[i] != ' ')
                        return false;
        return true;
}

int armor_encode(const char *kind, const char *key_id, const uint8_t sig[static ED25519_SIGNATURE_SIZE],
                 const uint8_t *body, size_t body_len, char **ret) {
        _cleanup_free_ char *sig64 = NULL, *body64 = NULL;
        char *out, *p;
        size_t n64, cap;

        assert(kind && kind_is_valid(kind));
        assert(key_id);
        assert(ret);

        sig64 = base64_encode(sig, ED25519_SIGNATURE_SIZE);
        body64 = base64_encode(body, body_len);
        if (!sig64 || !body64)
                return -ENOMEM;
        n64 = strlen(body64);

        cap = 2 * (sizeof(DASHES) * 2 + 16 + ARMOR_KIND_MAX) + 32 + strlen(key_id) + strlen(sig64) + n64 +
              n64 / WRAP + 8;
        out = malloc(cap);
        if (!out)
                return -ENOMEM;
        p = out;
        p += sprintf(p, DASHES "BEGIN LICENSED %s" DASHES "\nKey-Id: %s\nSignature: %s\n\n", kind, key_id,
                     sig64);
        for (size_t i = 0; i < n64; i += WRAP) {
                size_t k = n64 - i < WRAP ? n64 - i : WRAP;
                memcpy(p, body64 + i, k);
                p += k;
                *p++ = '\n';
        }
        p += sprintf(p, DASHES "END LICENSED %s" DASHES "\n", kind);
        assert((size_t) (p - out) < cap);
        *ret = out;
        return 0;
}

/* One line at a time, with CR and surrounding whitespace removed. */
typedef struct LineReader {
        const char *p, *end;
        unsigned lineno;
} LineReader;

static bool next_line(LineReader *lr, const char **ret, size_t *ret_len) {
        const char *s, *e, *nl;

        if (lr->p >= lr->end)
                return false;
        nl = memchr(lr->p, '\n', (size_t) (lr->end - lr->p));
        e = nl ? nl : lr->end;
        s = lr->p;
        lr->p = nl ? nl + 1 : lr->end;
        lr->lineno++;
        /* What e-mail and editors do to a line: indentation, trailing
         * blanks, CRLF. No other white space is a line's edge. */
        while (s < e && (*s == ' ' || *s == '\t'))
                s++;
        if (e > s && e[-1] == '\r')
                e--;
        while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
                e--;
        *ret = s;
        *ret_len = (size_t) (e - s);
        return true;
}

/* Matches "-----BEGIN LICENSED <KIND>-----" (or END); copies KIND. */
static bool match_marker(const char *line, size_t len, const char *what, char kind[static ARMOR_KIND_MAX]) {
        char prefix[32];
        size_t plen, klen;

        plen = (size_t) snprintf(prefix, sizeof(prefix), DASHES "%s LICENSED ", what);
        if (len < plen + 5 || memcmp(line, prefix, plen) != 0 || memcmp(line + len - 5, DASHES, 5) != 0)
                return false;
        klen = len - plen - 5;
        if (klen == 0 || klen >= ARMOR_KIND_MAX)
                return false;
        memcpy(kind, line + plen, klen);
        kind[klen] = 0;
        return kind_is_valid(kind);
}

static int parse_header(Armor *a, const char *line, size_t len, bool *have_id, bool *have_sig, unsigned lineno,
                        CoreError *err) {
        const char *colon = memchr(line, ':', len);
        const char *v;
        size_t nlen, vlen;

        if (!colon)
                return core_error_set(err, EBADMSG, "line %u of the armored text is not a 'Name: value' header",
                                      lineno);
        nlen = (size_t) (colon - line);
        v = colon + 1;
        while (v < line + len && (*v == ' ' || *v == '\t'))
                v++;
        vlen = (size_t) (line + len - v);

        if (nlen == 6 && memcmp(line, "Key-Id", 6) == 0) {
                if (*have_id)
                        return core_error_set(err, EBADMSG, "Key-Id appears twice");
                if (vlen != KEY_ID_STRING_SIZE - 1)
                        return core_error_set(err, EBADMSG, "Key-Id must be 16 hex digits");
                memcpy(a->key_id, v, vlen);
                a->key_id[vlen] = 0;
                if (!hex_is_valid(a->key_id, KEY_ID_STRING_SIZE - 1))
                        return core_error_set(err, EBADMSG, "Key-Id must be 16 lower-case hex digits");
                *have_id = true;
                return 0;
        }
        if (nlen == 9 && memcmp(line, "Signature", 9) == 0) {
                _cleanup_free_ uint8_t *sig = NULL;
                size_t siglen;
                int r;

                if (*have_sig)
                        return core_error_set(err, EBADMSG, "Signature appears twice");
                r = base64_decode(v, vlen, &sig, &siglen, err);
                if (r < 0) {
                        core_error_prefix(err, "Signature header: ");
                        return r;
                }
                if (siglen != ED25519_SIGNATURE_SIZE)
                        return core_error_set(err, EBADMSG, "Signature is %zu bytes, expected %d (truncated?)",
                                              siglen, ED25519_SIGNATURE_SIZE);
                memcpy(a->signature, sig, siglen);
                *have_sig = true;
                return 0;
        }
        return core_error_set(err, EBADMSG, "unknown armor header '%.*s'", (int) (nlen > 40 ? 40 : nlen), line);
}

/* "a" or "an" before a kind, as it is spoken: "an ACTIVATION REQUEST". */
static const char *article(const char *kind) {
        return kind[0] && strchr("AEIOU", kind[0]) ? "an" : "a";
}

int armor_decode(const char *text, size_t len, const char *expected_kind, Armor *ret, CoreError *err) {
        _cleanup_free_ char *b64 = NULL;
        LineReader lr = {.p = text, .end = text + len};
        Armor a = {};
        const char *line;
        size_t llen, n64 = 0;
        bool found = false, have_id = false, have_sig = false, in_body = false, ended = false;
        char endkind[ARMOR_KIND_MAX], kbuf[ARMOR_KIND_MAX];
        int r;

        assert(text || len == 0);
        assert(ret);

        if (len > ARMOR_MAX_SIZE)
                return core_error_set(err, EFBIG, "armored text is %zu bytes, more than the %d allowed", len,
                                      ARMOR_MAX_SIZE);
        if (memchr(text, 0, len))
                return core_error_set(err, EBADMSG, "armored text contains a NUL byte (binary file?)");

        while (next_line(&lr, &line, &llen))
                if (match_marker(line, llen, "BEGIN", a.kind)) {
                        found = true;
                        break;
                }
        if (!found)
                return core_error_set(err, EBADMSG, "no '-----BEGIN LICENSED ...-----' line found");
        if (expected_kind && !streq(a.kind, expected_kind))
                return core_error_set(err, EBADMSG, "this is %s %s, not %s %s", article(a.kind), a.kind,
                                      article(expected_kind), expected_kind);

        b64 = malloc(len + 1);
        if (!b64)
                return -ENOMEM;

        while (next_line(&lr, &line, &llen)) {
                if (match_marker(line, llen, "END", endkind)) {
                        if (!streq(endkind, a.kind))
                                return core_error_set(err, EBADMSG, "BEGIN %s is closed by END %s", a.kind,
                                                      endkind);
                        ended = true;
                        break;
                }
                if (!in_body) {
                        if (llen == 0) {
                                /* Blank line ends the headers, once we have any. */
                                if (have_id || have_sig)
                                        in_body = true;
                                continue;
                        }
                        r = parse_header(&a, line, llen, &have_id, &have_sig, lr.lineno, err);
                        if (r < 0)
                                return r;
                        continue;
                }
                /* A body line is base64 and nothing else: a vertical tab or a
                 * space in the middle of it is not a line break, so one body
                 * has one armored form (up to the line edges above). */
                for (size_t i = 0; i < llen; i++) {
                        unsigned char c = (unsigned char) line[i];
                        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
                              c == '/' || c == '='))
                                return core_error_set(err, EBADMSG,
                                                      "line %u: invalid base64 character 0x%02x%s in the "
                                                      "body (a body line holds base64 and nothing else)",
                                                      lr.lineno, c,
                                                      c == '\v' || c == '\f' || c == ' ' ? " (white space)" : "");
                        b64[n64++] = (char) c;
                }
        }
        if (!ended)
                return core_error_set(err, EBADMSG, "the END line is missing: the %s is truncated",
                                      kind_lower(a.kind, kbuf));
        if (!have_id)
                return core_error_set(err, EBADMSG, "the Key-Id header is missing");
        if (!have_sig)
                return core_error_set(err, EBADMSG, "the Signature header is missing");
        if (n64 == 0)
                return core_error_set(err, EBADMSG, "the %s has no body", kind_lower(a.kind, kbuf));

        r = base64_decode(b64, n64, &a.body, &a.body_len, err);
        if (r < 0) {
                core_error_prefix(err, "body: ");
                return r;
        }
        *ret = a;
        return 0;
}

int armor_sign(EVP_PKEY *key, const char *kind, const uint8_t *body, size_t body_len, char **ret) {
        uint8_t sig[ED25519_SIGNATURE_SIZE];
        char key_id[KEY_ID_STRING_SIZE];
        int r;

        r = key_id_from_key(key, key_id);
        if (r < 0)
                return r;
        r = ed25519_sign(key, body, body_len, sig);
        if (r < 0)
                return r;
        return armor_encode(kind, key_id, sig, body, body_len, ret);
}

int armor_sign_self(EVP_PKEY *key, const char *public_b64, const char *kind, const uint8_t *body, size_t body_len,
                    char **ret) {
        _cleanup_free_ char *pub = NULL;
        int r;

        r = ed25519_public_base64(key, &pub);
        if (r < 0)
                return r;
        if (!streq_ptr(pub, public_b64))
                return -EINVAL;
        return armor_sign(key, kind, body, body_len, ret);
}

int armor_verify(const Armor *a, EVP_PKEY *key, CoreError *err) {
        char key_id[KEY_ID_STRING_SIZE], kbuf[ARMOR_KIND_MAX];
        int r;

        r = key_id_from_key(key, key_id);
        if (r < 0)
                return r;
        if (!streq(key_id, a->key_id))
                return core_error_set(err, ENOKEY, "signed by key %s, not by the expected key %s", a->key_id,
                                      key_id);
        r = ed25519_verify(key, a->body, a->body_len, a->signature, sizeof(a->signature));
        if (r < 0)
                return core_error_set(err, EKEYREJECTED,
                                      "the signature does not match: the %s was altered or damaged",
                                      kind_lower(a->kind, kbuf));
        return 0;
}

int armor_verify_self_signed(const Armor *a, const char *public_b64, const char *noun, CoreError *err) {
        _cleanup_pkey_ EVP_PKEY *key = NULL;
        char key_id[KEY_ID_STRING_SIZE];
        int r;

        r = ed25519_public_from_base64(public_b64, &key, err);
        if (r < 0)
                return r;
        r = key_id_from_key(key, key_id);
        if (r < 0)
                return r;
        if (!streq(key_id, a->key_id))
                return core_error_set(err, ENOKEY, "the Key-Id %s does not match the device key in the %s (key id %s)",
                                      a->key_id, noun, key_id);
        return armor_verify(a, key, err);
}
