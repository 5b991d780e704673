/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* liblicensed: the public API (licensed.h). The snapshot answers when it
 * can (fastpath.c); otherwise one CheckFeature call on a private bus
 * connection opened for this call, with a deadline that covers connecting,
 * authenticating and the reply. */

#include <assert.h>
#include <time.h>
#include <systemd/sd-bus.h>

#include "build-info.h"
#include "bus-contract.h"
#include "evaluate.h"
#include "fastpath.h"
#include "license.h"
#include "licensed.h"
#include "macro.h"
#include "product.h"
#include "snapshot.h"
#include "strutil.h"
#include "time-units.h"
#include "timeutil.h"

#define DEFAULT_TIMEOUT_MS 5000u
#define MAX_TIMEOUT_MS (10u * 60u * 1000u)

static uint64_t now_monotonic_usec(void) {
        return now_usec(CLOCK_MONOTONIC);
}

/* The wall clock for the snapshot's rules, in whole seconds, from the
 * kernel's tick-updated copy: a vDSO read of a few ns (CLOCK_REALTIME reads
 * the TSC and costs several times more). It lags by at most one tick (4 ms
 * at HZ=250), so a verdict may be answered that long after its valid_until:
 * far inside the second the daemon rounds to. */
/* Whole seconds of the wall clock, as the snapshot counts. time() is
 * CLOCK_REALTIME_COARSE's second read straight from the vDSO: one call and
 * no system call, where clock_gettime() is two calls. */
static int64_t now_coarse(void) {
        return (int64_t) time(NULL);
}

static uint64_t timeout_usec(void) {
        const char *e = secure_getenv("LICENSED_TIMEOUT_MS");
        unsigned long ms;
        char *end;

        if (isempty(e))
                return DEFAULT_TIMEOUT_MS * USEC_PER_MSEC;
        errno = 0;
        ms = strtoul(e, &end, 10);
        if (errno != 0 || *end || ms == 0 || ms > MAX_TIMEOUT_MS)
                return DEFAULT_TIMEOUT_MS * USEC_PER_MSEC;
        return (uint64_t) ms * USEC_PER_MSEC;
}

/* The snapshot belongs to the system bus's daemon: with another bus and no
 * snapshot named, there is none. "" turns it off. The fast path asks this at
 * most once a second per thread (fastpath.h). */
static const char *snapshot_path(void) {
        const char *e = secure_getenv("LICENSED_SNAPSHOT");

        if (e)
                return *e ? e : NULL;
        if (!isempty(secure_getenv("LICENSED_BUS_ADDRESS")))
                return NULL;
        return RUNTIME_DIR "/" SNAPSHOT_FILE_NAME;
}

static int bus_open(const char *description, sd_bus **ret) {
        return licensed_bus_open(secure_getenv("LICENSED_BUS_ADDRESS"), description, ret);
}

/* What a D-Bus error reply means to the caller. */
static int errno_from_bus_error(const sd_bus_error *e) {
        int unreachable;

        /* Before the shared predicate, which counts a bus policy refusal as
         * "cannot ask": this library's contract names it -EACCES. */
        if (sd_bus_error_has_name(e, SD_BUS_ERROR_ACCESS_DENIED))
                return -EACCES;
        unreachable = licensed_bus_unreachable_errno(e, 0);
        if (unreachable > 0)
                return -unreachable;
        if (sd_bus_error_has_name(e, SD_BUS_ERROR_INVALID_ARGS))
                return -EINVAL;
        if (sd_bus_error_has_name(e, SD_BUS_ERROR_NO_MEMORY))
                return -ENOMEM;
        return -EPROTO;
}

static int on_reply(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        sd_bus_message **reply = userdata;

        *reply = sd_bus_message_ref(m);
        return 0;
}

/* Sends m on bus and waits for its reply (or error reply) until deadline
 * (CLOCK_MONOTONIC µs). Every wait is bounded, including the connection's
 * authentication, which sd_bus_call() would wait for without a limit. */
static int bus_call(sd_bus *bus, sd_bus_message *m, uint64_t deadline, sd_bus_message **ret) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(sd_bus_slot_unrefp) sd_bus_slot *slot = NULL;
        uint64_t now = now_monotonic_usec();
        int r;

        if (now >= deadline)
                return -ETIMEDOUT;
        r = sd_bus_call_async(bus, &slot, m, on_reply, &reply, deadline - now);
        if (r < 0)
                return r;
        while (!reply) {
                r = sd_bus_process(bus, NULL);
                if (r < 0)
                        return r;
                if (r > 0)
                        continue;
                now = now_monotonic_usec();
                if (now >= deadline)
                        return -ETIMEDOUT;
                r = sd_bus_wait(bus, deadline - now);
                if (r < 0 && r != -EINTR)
                        return r;
        }
        *ret = TAKE_PTR(reply);
        return 0;
}

static int new_manager_call(sd_bus *bus, const char *method, sd_bus_message **ret) {
        return sd_bus_message_new_method_call(bus, ret, LICENSED_BUS_NAME, LICENSED_MANAGER_PATH,
                                              LICENSED_MANAGER_INTERFACE, method);
}

/* One CheckFeature call on bus. */
static int call_check_feature(sd_bus *bus, const char *product, const char *feature, uint64_t release_date_usec,
                              uint64_t deadline, sd_bus_message **ret) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        int r;

        r = new_manager_call(bus, "CheckFeature", &m);
        if (r < 0)
                return r;
        r = sd_bus_message_append(m, "sst", product, feature, release_date_usec);
        if (r < 0)
                return r;
        return bus_call(bus, m, deadline, ret);
}

/* A reason from the daemon: a short lower-case word, maybe newer than us. */
static bool reason_is_plausible(const char *s) {
        size_t n = strlen(s);

        if (n == 0 || n >= LICENSED_REASON_MAX)
                return false;
        for (size_t i = 0; i < n; i++)
                if (!((s[i] >= 'a' && s[i] <= 'z') || s[i] == '-'))
                        return false;
        return true;
}

/* A CheckFeature reply as a verdict. */
static int verdict_from_reply(sd_bus_message *reply, licensed_verdict *ret) {
        const char *reason;
        uint64_t expires, grace_end;
        int licensed, r;

        if (sd_bus_message_is_method_error(reply, NULL))
                return errno_from_bus_error(sd_bus_message_get_error(reply));
        r = sd_bus_message_read(reply, "bstt", &licensed, &reason, &expires, &grace_end);
        if (r < 0 || !reason_is_plausible(reason))
                return -EPROTO;
        *ret = (licensed_verdict){
                .licensed = licensed,
                .expires_usec = expires,
                .grace_end_usec = grace_end,
                .source = LICENSED_SOURCE_DAEMON,
        };
        memcpy(ret->reason, reason, strlen(reason) + 1);
        return 0;
}

/* Each D-Bus check has a private connection of its own, closed afterwards. */
static int check_via_bus(const char *product, const char *feature, uint64_t release_date_usec,
                         licensed_verdict *ret) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        uint64_t deadline = now_monotonic_usec() + timeout_usec();
        int r;

        r = bus_open("liblicensed", &bus);
        if (r < 0)
                return r;
        r = call_check_feature(bus, product, feature, release_date_usec, deadline, &reply);
        if (r < 0)
                return r;
        return verdict_from_reply(reply, ret);
}

/* Each reason's name padded with NULs to the verdict's field, so a check
 * copies a fixed 32 bytes (two vector moves) rather than measuring and
 * copying a string; filled when the library is loaded. A name that would
 * not fit stays empty, and a snapshot answer with it goes to the daemon. */
static char reason_field[_REASON_MAX][LICENSED_REASON_MAX];

__attribute__((constructor)) static void reason_field_init(void) {
        for (Reason i = 0; i < _REASON_MAX; i++) {
                const char *name = reason_to_string(i);

                if (name && strlen(name) < LICENSED_REASON_MAX)
                        memcpy(reason_field[i], name, strlen(name));
        }
}

static int check_via_snapshot(const char *product, const char *feature, uint64_t release_date_usec,
                              licensed_verdict *ret) {
        Verdict v;
        int r;

        /* Whole seconds, as the daemon rounds. */
        r = fastpath_check(snapshot_path, product, feature, (int64_t) (release_date_usec / USEC_PER_SEC),
                           now_coarse(), &v);
        if (r < 0)
                return r;
        if ((unsigned) v.reason >= _REASON_MAX || reason_field[v.reason][0] == 0)
                return -EBADMSG;
        /* Field by field: a compound literal zeroes the whole struct first
         * with `rep stos`, whose start-up was a tenth of a check. */
        ret->licensed = v.licensed;
        memcpy(ret->reason, reason_field[v.reason], sizeof(ret->reason));
        ret->expires_usec = usec_from_sec(v.expires);
        ret->grace_end_usec = usec_from_sec(v.grace_end);
        ret->source = LICENSED_SOURCE_SNAPSHOT;
        memset(ret->reserved, 0, sizeof(ret->reserved));
        return 0;
}

_public_ int licensed_check_feature_flags(const char *product, const char *feature,
                                          uint64_t release_date_usec, licensed_verdict *ret,
                                          unsigned flags) {
        licensed_verdict v;
        int r;

        if (!product || !feature || !ret)
                return -EINVAL;
        if ((flags & ~(unsigned) (LICENSED_CHECK_NO_SNAPSHOT | LICENSED_CHECK_SNAPSHOT_ONLY)) ||
            ((flags & LICENSED_CHECK_NO_SNAPSHOT) && (flags & LICENSED_CHECK_SNAPSHOT_ONLY)))
                return -EINVAL;

        /* The snapshot first: it holds only valid names (snapshot_open()
         * checks them by the rules below), so a name it answers for needs
         * no check of its own. */
        if (!(flags & LICENSED_CHECK_NO_SNAPSHOT) && check_via_snapshot(product, feature, release_date_usec, ret) >= 0)
                return 0;
        if (!product_id_is_valid(product) || !license_name_is_valid(feature))
                return -EINVAL;
        if (flags & LICENSED_CHECK_SNAPSHOT_ONLY)
                return -ENODATA;
        r = check_via_bus(product, feature, release_date_usec, &v);
        if (r < 0)
                return r;
        *ret = v;
        return 0;
}

_public_ int licensed_check_feature(const char *product, const char *feature, uint64_t release_date_usec,
                                    licensed_verdict *ret) {
        return licensed_check_feature_flags(product, feature, release_date_usec, ret, 0);
}

/* Seats ----------------------------------------------------------------------- */

/* The daemon ties a seat to the bus connection that checked it out, so the
 * seat object owns that connection: the seat lives as long as the object
 * (or the process). */
struct licensed_seat {
        sd_bus *bus; /* NULL: the feature is not counted and nothing is held */
        int fd;      /* bus's socket, for a child after fork() */
        pid_t pid;   /* the process that checked it out */
        char *product;
        char *feature;
};

static licensed_seat *seat_free(licensed_seat *seat) {
        if (!seat)
                return NULL;
        if (seat->bus && seat->pid != getpid()) {
                /* A child after fork(): sd-bus objects belong to the parent
                 * and may not be touched here (newer sd-bus refuses to, and
                 * would keep the socket open). Closing the child's copy of
                 * the socket is all there is to do; the object's memory in
                 * this process is let go. */
                if (seat->fd >= 0)
                        (void) close(seat->fd);
        } else
                sd_bus_close_unref(seat->bus);
        free(seat->product);
        free(seat->feature);
        free(seat);
        return NULL;
}
DEFINE_TRIVIAL_CLEANUP_FUNC(licensed_seat *, seat_free);

/* Return on bus, best effort, bounded by the timeout. */
static void send_return(sd_bus *bus, const char *product, const char *feature) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL, *reply = NULL;

        if (new_manager_call(bus, "Return", &m) >= 0 && sd_bus_message_append(m, "ss", product, feature) >= 0)
                (void) bus_call(bus, m, now_monotonic_usec() + timeout_usec(), &reply);
}

/* Opens a connection and sends CheckOut on it. -EAGAIN: the daemon that
 * got the call is exiting on idle (Error.Exiting). */
static int send_check_out(const char *product, const char *feature, uint64_t deadline, sd_bus **ret_bus,
                          sd_bus_message **ret_reply) {
        _cleanup_(sd_bus_close_unrefp) sd_bus *bus = NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL, *reply = NULL;
        int r;

        r = bus_open("liblicensed-seat", &bus);
        if (r < 0)
                return r;
        r = new_manager_call(bus, "CheckOut", &m);
        if (r < 0)
                return r;
        r = sd_bus_message_append(m, "ss", product, feature);
        if (r < 0)
                return r;
        r = bus_call(bus, m, deadline, &reply);
        if (r < 0)
                return r;
        if (sd_bus_message_is_method_error(reply, BUS_ERROR_EXITING))
                return -EAGAIN;
        if (sd_bus_message_is_method_error(reply, NULL))
                return errno_from_bus_error(sd_bus_message_get_error(reply));
        *ret_bus = TAKE_PTR(bus);
        *ret_reply = TAKE_PTR(reply);
        return 0;
}

_public_ int licensed_seat_checkout(const char *product, const char *feature, licensed_seat **ret_seat,
                                   licensed_verdict *ret_verdict) {
        _cleanup_(sd_bus_close_unrefp) sd_bus *bus = NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL, *check = NULL;
        _cleanup_(seat_freep) licensed_seat *seat = NULL;
        uint64_t deadline = now_monotonic_usec() + timeout_usec();
        uint32_t in_use, limit;
        const char *reason;
        licensed_verdict v;
        int granted, r;

        if (!product_id_is_valid(product) || !license_name_is_valid(feature) || !ret_seat)
                return -EINVAL;

        /* The object first: once a seat is granted, nothing may fail for
         * want of memory with the seat held. */
        seat = calloc(1, sizeof(*seat));
        if (!seat)
                return -ENOMEM;
        *seat = (licensed_seat){.fd = -EBADF, .pid = getpid()};
        seat->product = strdup(product);
        seat->feature = strdup(feature);
        if (!seat->product || !seat->feature)
                return -ENOMEM;

        /* A daemon exiting on idle hands out no seat, since the seat would go
         * with it; by the time it answers, the bus name is free, so one
         * more call starts and reaches the next daemon. */
        r = send_check_out(product, feature, deadline, &bus, &reply);
        if (r == -EAGAIN)
                r = send_check_out(product, feature, deadline, &bus, &reply);
        if (r == -EAGAIN)
                r = -ECONNRESET;
        if (r < 0)
                return r;
        r = sd_bus_message_read(reply, "bsuu", &granted, &reason, &in_use, &limit);
        if (r < 0 || !reason_is_plausible(reason))
                return -EPROTO;

        /* CheckOut does not say when the feature ends; CheckFeature on the
         * same connection does. Whether it is granted, and why, is
         * CheckOut's answer. */
        r = call_check_feature(bus, product, feature, 0, deadline, &check);
        if (r >= 0)
                r = verdict_from_reply(check, &v);
        if (r < 0) {
                /* Nothing may be held on error: give a seat just taken back
                 * now rather than when the daemon sees the connection go. */
                if (granted && limit > 0)
                        send_return(bus, product, feature);
                return r;
        }
        v.licensed = granted;
        memcpy(v.reason, reason, strlen(reason) + 1);

        /* Not counted: nothing to hold, so the connection goes. */
        if (granted && limit > 0) {
                seat->fd = sd_bus_get_fd(bus);
                seat->bus = TAKE_PTR(bus);
        }
        *ret_seat = granted ? TAKE_PTR(seat) : NULL;
        if (ret_verdict)
                *ret_verdict = v;
        return 0;
}

_public_ void licensed_seat_return(licensed_seat *seat) {
        if (!seat)
                return;
        /* Return, so that the seat is free when this function returns;
         * closing the connection alone frees it too, a moment later, once
         * the daemon hears that the connection is gone. A child after fork()
         * does not give back its parent's seat. */
        if (seat->bus && seat->pid == getpid())
                send_return(seat->bus, seat->product, seat->feature);
        seat_free(seat);
}

_public_ const char *licensed_reason_description(const char *reason) {
        return reason_to_description(reason_from_string(reason)) ?: "unknown reason";
}

_public_ const char *licensed_version(void) {
        return PACKAGE_VERSION;
}
