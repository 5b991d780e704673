/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The start image: every installed license as the daemon last held it,
 * in a binary form an entry is rebuilt from without reading, decoding,
 * hashing or parsing any license file (docs/architecture.md, "The start
 * image"). It says what it was made from (the licenses directory's
 * identity, a digest of the products' trust keys and policies, this
 * machine's identity and the daemon's version); the daemon believes it
 * only when all of that still holds, and checks every file against it in
 * the background after owning its bus name.
 *
 * The file, native byte order (it never leaves the machine), no padding:
 *
 *   magic     8 bytes  "LICDSI01"
 *   source    u64 st_dev, u64 st_ino, i64 mtime ns, i64 ctime ns of licenses/
 *   made_from 32 bytes (the daemon's digest of products, machine, version)
 *   count     u64
 *   records   count x record
 *   check     32 bytes SHA-256 of everything before it
 *
 * A record:
 *
 *   digest   16 bytes  the text digest the Entry keeps
 *   u32 revision, u32 type
 *   i64 issued, not_before, not_after, maintenance_until,
 *       validation_interval, grace_period
 *   i64 installed, last_validation, last_attempt, warned_days_left
 *   u8 revoked (0 or 1), u16 n_features, u16 n_properties
 *   strings id, product, licensee, key, machine_id, device_key, nonce,
 *           server_url, validation_nonce, last_error, announced
 *   n_features x (string name, i64 expires, u32 limit)
 *   n_properties x (string name, string value)
 *
 * A string is a u16 length and that many bytes without NUL; length 0xffff
 * is NULL. Parsing is strict and canonical (what parses is written back
 * byte for byte): a wrong size, magic, check, count, length, type or flag,
 * an invalid id, product or feature name is -EBADMSG, and the daemon loads
 * as if there were no image. This is pure format code; the file I/O is
 * daemon/store.c's, the use daemon/start-image.c's. */

#include <stddef.h>
#include <stdint.h>

#include "license-state.h"
#include "license.h"
#include "product.h"

#define START_IMAGE_MAGIC "LICDSI01"
#define START_IMAGE_DIGEST_SIZE 16
#define START_IMAGE_MADE_FROM_SIZE 32
#define START_IMAGE_MAX_RECORDS (UINT64_C(1) << 21)
/* 2^21 licenses of a few hundred bytes each; a record is bounded anyway. */
#define START_IMAGE_MAX_SIZE ((size_t) 1 << 30)
#define START_IMAGE_STRING_MAX 4096

typedef struct StartImageSource {
        uint64_t dev, ino;
        int64_t mtime_ns, ctime_ns;
        uint8_t made_from[START_IMAGE_MADE_FROM_SIZE];
} StartImageSource;

typedef struct StartImageWriter {
        uint8_t *buf;
        size_t size, allocated;
        uint64_t count;
        int error; /* the first failure, reported by finish */
} StartImageWriter;

void start_image_writer_begin(StartImageWriter *w, const StartImageSource *src);
void start_image_writer_add(StartImageWriter *w, const uint8_t digest[static START_IMAGE_DIGEST_SIZE],
                            const License *l, const LicenseState *st);
/* The file's bytes, malloc'd; -EINVAL if a license had a field the format
 * cannot hold (it would not parse back), -ENOMEM. Frees the writer. */
int start_image_writer_finish(StartImageWriter *w, void **ret, size_t *ret_size);
void start_image_writer_done(StartImageWriter *w);

/* Called for each record of a checked image, in file order, with a License
 * already compacted (license_compact(): one arena, shared strings pointing
 * at shared), its product (NULL when no product set was given) and a
 * LicenseState; ownership of l and st->last_error passes to the callee,
 * whatever it returns. A negative return stops the walk and is returned. */
typedef int (*StartImageFunc)(const uint8_t digest[static START_IMAGE_DIGEST_SIZE], License *l,
                              const Product *p, LicenseState *st, void *userdata);

typedef struct StartImageShared {
        /* NULL-terminated, may be NULL: strings that point here instead of
         * being copied, as license_compact()'s shared. */
        const char *const *shared;
        /* Given: each license's product is looked up, its product string
         * is the product's id, and a product not in the set is -EBADMSG. */
        const ProductSet *products;
} StartImageShared;

/* The header alone (magic and size only, no check): to tell whether the
 * image is worth parsing. -EBADMSG if it cannot be an image. */
int start_image_peek(const void *data, size_t size, StartImageSource *ret);

/* Checks the whole image first (size, magic, check, every record), then,
 * if f is given, calls it for each record. -EBADMSG for anything
 * start_image_writer_finish() did not write. */
int start_image_parse(const void *data, size_t size, StartImageSource *ret_src, uint64_t *ret_count,
                      const StartImageShared *shared, StartImageFunc f, void *userdata);
