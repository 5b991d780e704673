/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The verified-license cache: the set of licenses whose signature the
 * daemon has checked, so that a start with an unchanged state directory
 * does not check 100,000 Ed25519 signatures again. A member is a digest,
 *
 *   SHA-256("licensed verified-cache 1" NUL || raw trust key || file bytes)
 *
 * bound to the exact bytes of the license file and to the key that verified
 * them: a changed byte or another trust key for that key id is a miss, and
 * the license is verified as if there were no cache. Nothing but the
 * signature check is skipped on a hit (the armor is decoded, the body
 * parsed, the product's trust checked as always). The trust argument is in
 * docs/architecture.md, the file in docs/state.md.
 *
 * The file, native byte order (it never leaves the machine):
 *
 *   magic    8 bytes  "LICDVC01"
 *   count    u64      number of digests
 *   digests  count x 32 bytes, strictly ascending (memcmp order)
 *   check    32 bytes SHA-256 of everything before it
 *
 * Parsing is strict: a wrong size, magic, order or check is -EBADMSG, and
 * the caller rebuilds the file. This is pure format code; the file I/O is
 * daemon/store.c's. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto.h"

#define VERIFIED_DIGEST_SIZE 32
#define VERIFIED_CACHE_MAGIC "LICDVC01"
#define VERIFIED_CACHE_MAX_ENTRIES (UINT64_C(1) << 21)
#define VERIFIED_CACHE_HEADER_SIZE 16
#define VERIFIED_CACHE_SIZE(n) (VERIFIED_CACHE_HEADER_SIZE + ((size_t) (n) + 1) * VERIFIED_DIGEST_SIZE)
#define VERIFIED_CACHE_MAX_SIZE VERIFIED_CACHE_SIZE(VERIFIED_CACHE_MAX_ENTRIES)

typedef struct VerifiedDigest {
        uint8_t bytes[VERIFIED_DIGEST_SIZE];
} VerifiedDigest;

typedef struct VerifiedCache {
        VerifiedDigest *digests; /* ascending once parsed or sealed */
        size_t n, allocated;
} VerifiedCache;

/* The member for a license file verified with trust key raw_key. */
int verified_digest(const uint8_t raw_key[static ED25519_PUBLIC_KEY_SIZE], const void *text, size_t len,
                    VerifiedDigest *ret);

void verified_cache_done(VerifiedCache *c);

/* Building: add in any order, then seal (sorts, drops repeats). */
int verified_cache_add(VerifiedCache *c, const VerifiedDigest *d);
void verified_cache_seal(VerifiedCache *c);

/* On a sealed or parsed cache. */
bool verified_cache_contains(const VerifiedCache *c, const VerifiedDigest *d);
bool verified_cache_equal(const VerifiedCache *a, const VerifiedCache *b);

/* The file's bytes for a sealed cache, malloc'd. */
int verified_cache_format(const VerifiedCache *c, void **ret, size_t *ret_size);
/* -EBADMSG for anything but a file verified_cache_format() wrote. */
int verified_cache_parse(const void *data, size_t size, VerifiedCache *ret);
