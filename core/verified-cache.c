/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The verified-license cache's set and file format (verified-cache.h).
 * The story: at start the daemon computes each license file's digest,
 * looks it up here, and checks the signature only on a miss; then it
 * writes the set of what it found valid back, if that set changed. A
 * digest covers the trust key and the file's exact bytes, so what is in
 * the set can only ever spare the check of bytes already checked with
 * that key. The file is parsed as if hostile (damaged by a crash of the
 * disk, written by another version): exact size, order and checksum, or
 * nothing. */

#include <assert.h>
#include <openssl/sha.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "verified-cache.h"

static const char domain[] = "licensed verified-cache 1";

_Static_assert(sizeof(VERIFIED_CACHE_MAGIC) - 1 == 8, "the magic is 8 bytes");
_Static_assert(sizeof(VerifiedDigest) == VERIFIED_DIGEST_SIZE, "a digest is its bytes");
_Static_assert(SHA256_DIGEST_LENGTH == VERIFIED_DIGEST_SIZE, "digests are SHA-256");

int verified_digest(const uint8_t raw_key[static ED25519_PUBLIC_KEY_SIZE], const void *text, size_t len,
                    VerifiedDigest *ret) {
        _cleanup_free_ uint8_t *buf = NULL;
        size_t n = sizeof(domain) + ED25519_PUBLIC_KEY_SIZE;

        assert(raw_key);
        assert(text || len == 0);
        assert(ret);

        /* One buffer and the one-shot SHA256(): an EVP context per license
         * fetches the algorithm each time, which cost more than the hash. */
        buf = malloc(n + len);
        if (!buf)
                return -ENOMEM;
        memcpy(buf, domain, sizeof(domain));
        memcpy(buf + sizeof(domain), raw_key, ED25519_PUBLIC_KEY_SIZE);
        if (len > 0)
                memcpy(buf + n, text, len);
        SHA256(buf, n + len, ret->bytes);
        return 0;
}

void verified_cache_done(VerifiedCache *c) {
        if (!c)
                return;
        free(c->digests);
        *c = (VerifiedCache) {};
}

int verified_cache_add(VerifiedCache *c, const VerifiedDigest *d) {
        assert(c);
        assert(d);

        if (c->n >= VERIFIED_CACHE_MAX_ENTRIES)
                return -E2BIG;
        if (c->n == c->allocated) {
                size_t want = c->allocated ? c->allocated * 2 : 64;
                VerifiedDigest *n = realloc(c->digests, want * sizeof(*n));
                if (!n)
                        return -ENOMEM;
                c->digests = n;
                c->allocated = want;
        }
        c->digests[c->n++] = *d;
        return 0;
}

static int cmp_digest(const void *a, const void *b) {
        return memcmp(a, b, VERIFIED_DIGEST_SIZE);
}

void verified_cache_seal(VerifiedCache *c) {
        size_t k = 0;

        assert(c);
        if (c->n == 0)
                return;
        qsort(c->digests, c->n, sizeof(VerifiedDigest), cmp_digest);
        for (size_t i = 1; i < c->n; i++)
                if (cmp_digest(&c->digests[i], &c->digests[k]) != 0)
                        c->digests[++k] = c->digests[i];
        c->n = k + 1;
}

bool verified_cache_contains(const VerifiedCache *c, const VerifiedDigest *d) {
        assert(c);
        assert(d);
        return c->n > 0 && bsearch(d, c->digests, c->n, sizeof(VerifiedDigest), cmp_digest);
}

bool verified_cache_equal(const VerifiedCache *a, const VerifiedCache *b) {
        assert(a);
        assert(b);
        return a->n == b->n &&
               (a->n == 0 || memcmp(a->digests, b->digests, a->n * sizeof(VerifiedDigest)) == 0);
}

int verified_cache_format(const VerifiedCache *c, void **ret, size_t *ret_size) {
        uint64_t count;
        size_t size;
        uint8_t *p;

        assert(c);
        assert(ret);
        assert(ret_size);

        if (c->n > VERIFIED_CACHE_MAX_ENTRIES)
                return -E2BIG;
        size = VERIFIED_CACHE_SIZE(c->n);
        p = malloc(size);
        if (!p)
                return -ENOMEM;
        count = c->n;
        memcpy(p, VERIFIED_CACHE_MAGIC, 8);
        memcpy(p + 8, &count, sizeof(count));
        if (c->n > 0)
                memcpy(p + VERIFIED_CACHE_HEADER_SIZE, c->digests, c->n * sizeof(VerifiedDigest));
        SHA256(p, size - VERIFIED_DIGEST_SIZE, p + size - VERIFIED_DIGEST_SIZE);
        *ret = p;
        *ret_size = size;
        return 0;
}

int verified_cache_parse(const void *data, size_t size, VerifiedCache *ret) {
        const uint8_t *p = data;
        uint8_t check[SHA256_DIGEST_LENGTH];
        VerifiedCache c = {};
        uint64_t count;

        assert(data || size == 0);
        assert(ret);

        if (size < VERIFIED_CACHE_SIZE(0) || memcmp(p, VERIFIED_CACHE_MAGIC, 8) != 0)
                return -EBADMSG;
        memcpy(&count, p + 8, sizeof(count));
        if (count > VERIFIED_CACHE_MAX_ENTRIES || size != VERIFIED_CACHE_SIZE(count))
                return -EBADMSG;
        SHA256(p, size - VERIFIED_DIGEST_SIZE, check);
        if (memcmp(check, p + size - VERIFIED_DIGEST_SIZE, sizeof(check)) != 0)
                return -EBADMSG;
        /* Strictly ascending: the lookup is a binary search. */
        for (uint64_t i = 1; i < count; i++)
                if (cmp_digest(p + VERIFIED_CACHE_HEADER_SIZE + (i - 1) * VERIFIED_DIGEST_SIZE,
                               p + VERIFIED_CACHE_HEADER_SIZE + i * VERIFIED_DIGEST_SIZE) >= 0)
                        return -EBADMSG;
        if (count > 0) {
                c.digests = malloc(count * sizeof(VerifiedDigest));
                if (!c.digests)
                        return -ENOMEM;
                memcpy(c.digests, p + VERIFIED_CACHE_HEADER_SIZE, count * sizeof(VerifiedDigest));
        }
        c.n = c.allocated = count;
        *ret = c;
        return 0;
}
