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
 * connection and closes it again (a seat keeps its own until it is
 * returned); the program's default bus connection is never touched. The
 * only state kept between calls is a read-only mapping of the daemon's
 * snapshot, behind a lock that is only ever try-locked.
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
         * "revoked", "clock-rollback", "wrong-machine", "limit-reached",
         * and for floating features "no-lease", "site-unreachable",
         * "floating-in-use";
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

/* Counted seats -------------------------------------------------------------
 *
 * A feature with a count limit ("seats:limit=5") is used by at most that many
 * clients at once. A client takes a seat before it uses the feature and gives
 * it back afterwards; licensed_check_feature() only asks and takes nothing. */

/* A seat held by this process; opaque. */
typedef struct licensed_seat licensed_seat;

/* Takes a seat of FEATURE of PRODUCT: a CheckOut call on a private bus
 * connection that the seat keeps open, because the daemon ties the seat to
 * that connection. The seat is held until licensed_seat_return(), or until
 * the process ends in whatever way (exit, crash, kill -9): the kernel closes
 * the connection and the daemon frees the seat.
 *
 * Returns 0 when the daemon answered:
 *   granted:     *ret_seat is a seat object, ret_verdict->licensed is true
 *                ("licensed" or "grace"). For a licensed feature that is not
 *                counted there is no seat to take: *ret_seat is then still a
 *                (non-NULL) object, which holds nothing and no connection,
 *                so callers need not tell the two cases apart.
 *   not granted: *ret_seat is NULL and the verdict says why, for example
 *                "limit-reached" when every seat is taken, or
 *                "not-installed".
 * ret_verdict may be NULL. Its expires_usec and grace_end_usec are those
 * of CheckFeature for the same feature; source is LICENSED_SOURCE_DAEMON.
 * Seats never come from the snapshot.
 *
 * Otherwise a negative errno, as for licensed_check_feature(), and nothing
 * is held or written.
 *
 * Each call opens its own connection, so any thread may take seats at the
 * same time. A seat object may be handed to another thread, but not be
 * used by two at once. After fork() the seat stays the parent's: the child
 * inherits the connection's file descriptor (close-on-exec, so exec drops
 * it), and as long as the child keeps it the seat is not freed by the
 * parent's death alone. A child that does not exec should call
 * licensed_seat_return() on its copy: in the child it gives nothing back,
 * it only closes the child's copy of the connection. */
int licensed_seat_checkout(const char *product, const char *feature, licensed_seat **ret_seat,
                           licensed_verdict *ret_verdict);

/* Gives the seat back (a Return call, best effort, bounded by the timeout)
 * and closes its connection, which frees the seat even if Return failed.
 * When it returns, the seat is free for others to take (unless Return
 * failed: then a moment later). Frees seat; NULL is fine. */
void licensed_seat_return(licensed_seat *seat);

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
