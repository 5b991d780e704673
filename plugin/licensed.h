/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef LICENSED_H
#define LICENSED_H

/* liblicensed: ask licensed whether a feature of a product is licensed on
 * this machine. Link with `pkg-config --cflags --libs liblicensed`.
 *
 * Error model: every function that can fail returns 0 or a negative errno.
 * 0 means licensed (or a snapshot of its verdicts) answered, and the answer
 * may well be "not licensed": that is a value in the verdict, never an
 * error. A negative value means the question could not be asked at all
 * (no daemon, no bus, timeout, bad arguments); the caller decides what that
 * means for it, and should not treat it like "not licensed" without
 * thinking.
 *
 * Thread-safe and fork-safe: every call opens its own private bus
 * connection and closes it again; the program's default bus connection is
 * never touched. The only state kept between calls is a read-only mapping
 * of the daemon's snapshot, behind a lock that is only ever try-locked.
 *
 * Environment (ignored in setuid/setgid programs, see secure_getenv(3)):
 *   LICENSED_BUS_ADDRESS  a D-Bus address to use instead of the system bus
 *   LICENSED_SNAPSHOT     the snapshot file (default /run/licensed/snapshot)
 *   LICENSED_TIMEOUT_MS   the D-Bus call timeout in ms (default 5000)
 *
 * Manual: liblicensed(3), docs/client-library.md. */

#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Longest reason string, with its NUL. */
#define LICENSED_REASON_MAX 32

/* Where an answer came from (licensed_verdict.source). */
enum {
        LICENSED_SOURCE_DAEMON = 1,   /* a CheckFeature call over D-Bus */
        LICENSED_SOURCE_SNAPSHOT = 2, /* the daemon's snapshot, without IPC */
};

typedef struct licensed_verdict {
        /* true for the reasons "licensed" and "grace" */
        bool licensed;
        /* "licensed", "grace", "not-installed", "not-activated", "expired",
         * "feature-expired", "maintenance-expired", "validation-required",
         * "revoked", "clock-rollback", "wrong-machine", "limit-reached";
         * licensed_reason_description() gives a sentence for each. */
        char reason[LICENSED_REASON_MAX];
        /* When the feature ends regardless of validation, microseconds since
         * the epoch (UTC); 0: never. */
        uint64_t expires_usec;
        /* End of the grace period if the license must be validated, in
         * microseconds since the epoch; 0 otherwise. */
        uint64_t grace_end_usec;
        /* LICENSED_SOURCE_DAEMON or LICENSED_SOURCE_SNAPSHOT */
        unsigned source;
        /* Room to grow without changing the size of the struct. */
        uint64_t reserved[4];
} licensed_verdict;

/* Flags for licensed_check_feature_flags(). */
enum {
        /* Always ask the daemon over D-Bus, never the snapshot. */
        LICENSED_CHECK_NO_SNAPSHOT = 1u << 0,
        /* Only look in the snapshot; -ENODATA if it cannot answer. For
         * benchmarks and tests. */
        LICENSED_CHECK_SNAPSHOT_ONLY = 1u << 1,
};

/* Is FEATURE of PRODUCT licensed on this machine?
 *
 * product: a product id such as "com.example.app"; feature: a feature name
 * such as "reports". release_date_usec: the release date of the asking
 * program's version in microseconds since the epoch, so that maintenance
 * is checked ("maintenance-expired" for versions released after it ended);
 * 0 to not check maintenance.
 *
 * Answers from the daemon's snapshot when that is present, valid and fresh,
 * otherwise with a CheckFeature call to org.licensed.License1 on the system
 * bus (which starts the daemon if needed).
 *
 * Returns 0 and fills *ret when there is an answer, licensed or not.
 * Otherwise a negative errno and *ret is left alone:
 *   -EINVAL        product or feature missing or malformed, ret NULL
 *   -ENOENT, -ECONNREFUSED, -ECONNRESET
 *                  no bus, or licensed is not there and cannot be started
 *   -ETIMEDOUT     no answer within the timeout
 *   -EACCES        the bus refused the call
 *   -EPROTO        the daemon's answer made no sense
 *   -ENOMEM        out of memory */
int licensed_check_feature(const char *product, const char *feature, uint64_t release_date_usec,
                           licensed_verdict *ret);

/* As licensed_check_feature(), with LICENSED_CHECK_* flags. -EINVAL for an
 * unknown flag or both flags; -ENODATA when LICENSED_CHECK_SNAPSHOT_ONLY is
 * given and the snapshot cannot answer. */
int licensed_check_feature_flags(const char *product, const char *feature, uint64_t release_date_usec,
                                 licensed_verdict *ret, unsigned flags);

/* One sentence for a reason string, e.g. "the license has expired".
 * Never NULL: an unknown or NULL reason gives "unknown reason". The string
 * is static. */
const char *licensed_reason_description(const char *reason);

/* The version of liblicensed, e.g. "0.1.0". The string is static. */
const char *licensed_version(void);

#ifdef __cplusplus
}
#endif

#endif
