/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The site server's journal events (docs/floating.md, "Watch it";
 * systemd/licensed-site.catalog): structured entries with a MESSAGE_ID,
 * and the same sentence on stderr when not under journald. */

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/uio.h>
#include <syslog.h>
#include <systemd/sd-journal.h>

#include "log.h"
#include "site.h"
#include "timeutil.h"

#define EVENT_FIELDS_MAX 12

/* extra: one more "NAME=value" field, or NULL. */
static void site_eventv(const char *message_id, int priority, const Lease *l, unsigned used, unsigned seats,
                        const char *extra, const char *fmt, va_list ap) {
        char message[512], when[RFC3339_MAX];
        char *fields[EVENT_FIELDS_MAX] = {};
        struct iovec iov[EVENT_FIELDS_MAX];
        size_t n = 0;
        int r;

        vsnprintf(message, sizeof(message), fmt, ap);

#define FIELD(...)                                                                                          \
        do {                                                                                                \
                if (n < EVENT_FIELDS_MAX && asprintf(&fields[n], __VA_ARGS__) >= 0)                         \
                        n++;                                                                                \
        } while (0)
        FIELD("MESSAGE=%s", message);
        FIELD("MESSAGE_ID=%s", message_id);
        FIELD("PRIORITY=%d", priority);
        FIELD("SYSLOG_IDENTIFIER=licensed-site");
        if (l->id)
                FIELD("LEASE_ID=%s", l->id);
        FIELD("PRODUCT=%s", l->product);
        FIELD("FEATURE=%s", l->feature);
        FIELD("CLIENT_HOST=%s", l->host);
        FIELD("CLIENT_USER=%s", l->user);
        if (seats > 0) {
                FIELD("SEATS_USED=%u", used);
                FIELD("SEATS=%u", seats);
        }
        if (l->borrowed_until != TIME_UNSET)
                FIELD("BORROWED_UNTIL=%s", time_format_rfc3339(l->borrowed_until, when));
        if (extra)
                FIELD("%s", extra);
#undef FIELD
        for (size_t i = 0; i < n; i++)
                iov[i] = (struct iovec) {.iov_base = fields[i], .iov_len = strlen(fields[i])};
        r = sd_journal_sendv(iov, (int) n);
        for (size_t i = 0; i < n; i++)
                free(fields[i]);
        /* Outside systemd (a terminal, the tests) stderr is where it is read. */
        if (r < 0 || !getenv("JOURNAL_STREAM"))
                log_internal(priority, 0, "%s [MESSAGE_ID=%s]", message, message_id);
}

void site_event(const char *message_id, int priority, const Lease *l, unsigned used, unsigned seats,
                const char *fmt, ...) {
        va_list ap;

        va_start(ap, fmt);
        site_eventv(message_id, priority, l, used, seats, NULL, fmt, ap);
        va_end(ap);
}

static void event_extra(const Lease *l, const char *extra, const char *fmt, ...) {
        va_list ap;

        va_start(ap, fmt);
        site_eventv(SITE_EVENT_RELEASED, LOG_NOTICE, l, 0, 0, extra, fmt, ap);
        va_end(ap);
}

void site_event_released(const Lease *l, const char *by_host) {
        _cleanup_free_ char *extra = NULL;

        if (!by_host) {
                event_extra(l, NULL,
                            "Lease %s of %s feature %s held by %s@%s released by the administrator; its seat is "
                            "free",
                            l->id, l->product, l->feature, l->user, l->host);
                return;
        }
        if (asprintf(&extra, "RELEASED_BY_HOST=%s", by_host) < 0)
                extra = NULL;
        event_extra(l, extra,
                    "Lease %s of %s feature %s held by %s@%s released by the administrator on %s; its seat is free",
                    l->id, l->product, l->feature, l->user, l->host, by_host);
}

void site_event_expired(const Lease *l, void *userdata) {
        site_event(SITE_EVENT_EXPIRED, LOG_NOTICE, l, 0, 0,
                   "Lease %s of %s feature %s held by %s@%s expired: no heartbeat; its seat is free", l->id,
                   l->product, l->feature, l->user, l->host);
}
