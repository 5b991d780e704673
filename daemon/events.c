/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <syslog.h>

#include "events.h"
#include "journal-fields.h"
#include "log.h"

void event_emit(const char *message_id, int priority, const EventFields *f, const char *fmt, ...) {
        JournalFields l = {};
        char message[512], prio[8], days[32];
        va_list ap;
        int r;

        va_start(ap, fmt);
        vsnprintf(message, sizeof(message), fmt, ap);
        va_end(ap);
        snprintf(prio, sizeof(prio), "%d", priority);

        journal_fields_add(&l, "MESSAGE", message);
        journal_fields_add(&l, "MESSAGE_ID", message_id);
        journal_fields_add(&l, "PRIORITY", prio);
        journal_fields_add(&l, "SYSLOG_IDENTIFIER", "licensed");
        journal_fields_add(&l, "LICENSE_ID", f->license_id);
        journal_fields_add(&l, "PRODUCT", f->product);
        journal_fields_add(&l, "FEATURE", f->feature);
        journal_fields_add(&l, "REASON", f->reason);
        if (f->days_left >= 0) {
                snprintf(days, sizeof(days), "%lld", (long long) f->days_left);
                journal_fields_add(&l, "DAYS_LEFT", days);
        }
        r = journal_fields_send(&l);

        /* Without journald (tests, a terminal), say it on stderr too so it
         * is not lost; under systemd stderr is the journal already. */
        if (r < 0 || !getenv("JOURNAL_STREAM"))
                log_internal(priority, 0, "%s [MESSAGE_ID=%s]", message, message_id);
}
