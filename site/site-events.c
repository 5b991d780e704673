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

void site_event(const char *message_id, int priority, const Lease *l, unsigned used, unsigned seats,
                const char *fmt, ...) {
        char message[512], when[RFC3339_MAX];
        char *fields[EVENT_FIELDS_MAX] = {};
        struct iovec iov[EVENT_FIELDS_MAX];
        size_t n = 0;
        va_list ap;
        int r;

        va_start(ap, fmt);
        vsnprintf(message, sizeof(message), fmt, ap);
        va_end(ap);

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

void site_event_expired(const Lease *l, void *userdata) {
        site_event(SITE_EVENT_EXPIRED, LOG_NOTICE, l, 0, 0,
                   "Lease %s of %s feature %s held by %s@%s expired: no heartbeat; its seat is free", l->id,
                   l->product, l->feature, l->user, l->host);
}
