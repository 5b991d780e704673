/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/uio.h>
#include <syslog.h>
#include <systemd/sd-journal.h>

#include "events.h"
#include "log.h"

#define MAX_FIELDS 10

typedef struct FieldList {
        struct iovec iov[MAX_FIELDS];
        char *owned[MAX_FIELDS];
        size_t n;
} FieldList;

static void add(FieldList *l, const char *name, const char *value) {
        char *s;

        if (!value || l->n >= MAX_FIELDS || asprintf(&s, "%s=%s", name, value) < 0)
                return;
        l->owned[l->n] = s;
        l->iov[l->n++] = (struct iovec) {.iov_base = s, .iov_len = strlen(s)};
}

void event_emit(const char *message_id, int priority, const EventFields *f, const char *fmt, ...) {
        FieldList l = {};
        char message[512], prio[8], days[32];
        va_list ap;
        int r;

        va_start(ap, fmt);
        vsnprintf(message, sizeof(message), fmt, ap);
        va_end(ap);
        snprintf(prio, sizeof(prio), "%d", priority);

        add(&l, "MESSAGE", message);
        add(&l, "MESSAGE_ID", message_id);
        add(&l, "PRIORITY", prio);
        add(&l, "SYSLOG_IDENTIFIER", "licensed");
        add(&l, "LICENSE_ID", f->license_id);
        add(&l, "PRODUCT", f->product);
        add(&l, "FEATURE", f->feature);
        add(&l, "REASON", f->reason);
        if (f->days_left >= 0) {
                snprintf(days, sizeof(days), "%lld", (long long) f->days_left);
                add(&l, "DAYS_LEFT", days);
        }
        r = sd_journal_sendv(l.iov, (int) l.n);
        for (size_t i = 0; i < l.n; i++)
                free(l.owned[i]);

        /* Without journald (tests, a terminal), say it on stderr too so it
         * is not lost; under systemd stderr is the journal already. */
        if (r < 0 || !getenv("JOURNAL_STREAM"))
                log_internal(priority, 0, "%s [MESSAGE_ID=%s]", message, message_id);
}
