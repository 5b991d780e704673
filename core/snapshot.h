/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The fast-path snapshot: a read-only file (/run/licensed/snapshot) in which
 * the daemon publishes the verdict of every feature of every installed
 * license, so that liblicensed can answer CheckFeature without IPC. Modelled
 * on sssd's memory cache: the daemon writes a whole new file and renames it
 * over the old one, then marks the old one superseded; readers map it
 * read-only, check it once, and check the clock on every lookup. Anything
 * missing, stale or inconsistent makes the reader ask the daemon instead.
 * Format and safety rules: docs/client-library.md.
 *
 * Pure code: no clock, no files. The caller maps the file (or builds the
 * bytes) and passes the current time. Native byte order: the file never
 * leaves the machine, and a reader of the other byte order sees a wrong
 * version and falls back. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "evaluate.h"
#include "timeutil.h"

#define SNAPSHOT_FILE_NAME "snapshot"
#define SNAPSHOT_MAGIC "LICDSNAP" /* 8 bytes, no NUL in the file */
/* 2: a hash index beside the sorted entries. A reader of version 1 sees
 * another version and asks the daemon. */
#define SNAPSHOT_VERSION UINT32_C(2)
/* A file older than this is not used (the daemon may be gone for good). */
#define SNAPSHOT_MAX_AGE SEC_PER_HOUR
/* A running daemon rewrites the file at least this often. */
#define SNAPSHOT_REFRESH_INTERVAL (SNAPSHOT_MAX_AGE / 2)
/* Larger files are refused: 1 MiB holds ~15,000 features. */
#define SNAPSHOT_MAX_SIZE (64u * 1024u * 1024u)

typedef struct SnapshotHeader {
        char magic[8];
        uint32_t version;
        uint32_t header_size; /* sizeof(SnapshotHeader) */
        uint32_t entry_size;  /* sizeof(SnapshotEntry) */
        /* Set to 1 by the daemon on the old file after a new one replaced it:
         * readers that mapped the old one drop it. Not covered by the checksum. */
        uint32_t superseded;
        uint64_t generation; /* one more than the file it replaced */
        uint64_t size;       /* of the whole file */
        /* FNV-1a 64 over the whole file, this field and superseded read as 0 */
        uint64_t checksum;
        int64_t written_at;      /* wall clock when written, seconds */
        int64_t time_high_water; /* the daemon's clock high-water mark */
        int64_t clock_tolerance; /* how far behind it a clock is still fine */
        uint64_t n_entries;
        uint64_t entries_offset; /* SnapshotEntry[n_entries], sorted by (product, feature) */
        /* uint32_t[n_buckets]: open addressing with linear probing over
         * snapshot_key_hash(); 0 is an empty bucket, i + 1 names entry i.
         * n_buckets is a power of two above n_entries, so a probe always
         * ends at an empty bucket. */
        uint64_t index_offset;
        uint64_t n_buckets;
        uint64_t strings_offset; /* NUL-terminated names */
        uint64_t strings_size;
} SnapshotHeader;

typedef struct SnapshotEntry {
        uint32_t product; /* offset of the name in the string table */
        uint32_t feature;
        int32_t reason;    /* Reason */
        uint32_t licensed; /* 0 or 1, and 1 exactly for licensed and grace */
        int64_t expires;
        int64_t grace_end;
        /* The verdict may change at this instant (TIME_UNSET: only on a state
         * change, which rewrites the file). */
        int64_t valid_until;
        /* Release dates after this need the daemon (maintenance); TIME_UNSET: any. */
        int64_t release_limit;
} SnapshotEntry;

/* What the writer is given for one (product, feature). */
typedef struct SnapshotRecord {
        const char *product;
        const char *feature;
        Verdict verdict; /* expires, grace_end, valid_until, reason, licensed */
        int64_t release_limit;
} SnapshotRecord;

typedef struct SnapshotInfo {
        uint64_t generation;
        int64_t written_at;
        int64_t time_high_water;
        int64_t clock_tolerance;
} SnapshotInfo;

/* Builds the file in memory; sorts records. -EINVAL for a duplicate
 * (product, feature) or a name that is not a valid identifier, -E2BIG
 * beyond SNAPSHOT_MAX_SIZE. */
int snapshot_build(SnapshotRecord *records, size_t n, const SnapshotInfo *info, void **ret,
                   size_t *ret_size);

/* The header's checksum for these bytes (size >= sizeof(SnapshotHeader)). */
uint64_t snapshot_checksum(const void *data, size_t size);

/* A checked view of a snapshot; points into the caller's bytes. What was
 * checked is copied out, so bytes that change after snapshot_open() can make
 * a lookup miss but never read out of bounds. */
typedef struct Snapshot {
        const SnapshotHeader *header;
        const SnapshotEntry *entries;
        size_t n_entries;
        const uint32_t *buckets;
        size_t n_buckets;
        const char *strings;
        size_t strings_size;
        uint64_t generation;
        int64_t written_at;
        int64_t time_high_water;
        int64_t clock_tolerance;
} Snapshot;

/* The index's hash of a (product, feature) pair, given their lengths. Not
 * a defence against chosen names (the names come from licenses the vendor
 * signed, and a probe is bounded by the table anyway), just fast: eight
 * bytes a step. */
uint64_t snapshot_key_hash(const char *product, size_t product_len, const char *feature, size_t feature_len);

/* Checks everything that does not depend on the clock, once per mapping:
 * size, magic, version, sizes and offsets, checksum, every name, the order,
 * and that the index finds every entry exactly once. -EBADMSG for anything
 * wrong, -EPROTONOSUPPORT for another version. */
int snapshot_open(const void *data, size_t size, Snapshot *ret);

/* Whether the daemon has marked this file as replaced. Inline: every check
 * asks it. */
static inline bool snapshot_superseded(const Snapshot *s) {
        /* Written by the daemon while readers have the file mapped. */
        return __atomic_load_n(&s->header->superseded, __ATOMIC_ACQUIRE) != 0;
}

/* The verdict for (product, feature, release_date) at wall-clock now, from a
 * snapshot that passed snapshot_open(). 0 and *ret on an answer; otherwise
 * the reason to ask the daemon instead:
 *   -ESTALE   the file is superseded or older than SNAPSHOT_MAX_AGE
 *   -EDOM     the clock is behind written_at or the high-water mark minus
 *             the tolerance (rollback: the daemon decides)
 *   -ENOENT   (product, feature) is not listed (found through the index: the
 *             cost does not grow with the number of entries)
 *   -ETIME    the entry's verdict may have changed (now >= valid_until)
 *   -ERANGE   release_date is after the entry's release limit
 *   -EBADMSG  the entry changed since snapshot_open() and makes no sense */
int snapshot_lookup(const Snapshot *s, const char *product, const char *feature, int64_t release_date,
                    int64_t now, Verdict *ret);
