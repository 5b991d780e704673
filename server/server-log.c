/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Under systemd, journald already tags every line with the program's name;
 * a "licensed-server: " prefix in the message doubled it, and every line
 * had the same priority. So under the journal the server sends its
 * entries itself with sd_journal_sendv(): the bare message, a priority and
 * fields. Anywhere else (a terminal, the tests' log files) it writes one
 * line to standard error. */

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "journal-fields.h"
#include "macro.h"
#include "report-error.h"
#include "server-log.h"
#include "text-check.h"

static bool to_journal;

/* The test systemd itself uses: $JOURNAL_STREAM is "DEVICE:INODE" of the
 * stream it connected, and it must still be our standard error (not a
 * file a child inherited the variable with). */
static bool stderr_is_journal(void) {
        const char *e = getenv("JOURNAL_STREAM");
        unsigned long long dev, ino;
        struct stat st;

        if (!e || sscanf(e, "%llu:%llu", &dev, &ino) != 2)
                return false;
        if (fstat(STDERR_FILENO, &st) < 0)
                return false;
        return st.st_dev == (dev_t) dev && st.st_ino == (ino_t) ino;
}

void server_log_init(void) {
        to_journal = stderr_is_journal();
}

static void emit(const char *message_id, int priority, const ServerEventFields *f, const char *message) {
        JournalFields l = {};
        char prio[8];
        int r = -1;

        if (to_journal) {
                snprintf(prio, sizeof(prio), "%d", priority);
                journal_fields_add(&l, "MESSAGE", message);
                journal_fields_add(&l, "PRIORITY", prio);
                journal_fields_add(&l, "SYSLOG_IDENTIFIER", "licensed-server");
                journal_fields_add(&l, "MESSAGE_ID", message_id);
                if (f) {
                        journal_fields_add(&l, "LICENSE_ID", f->license_id);
                        journal_fields_add(&l, "LICENSE_KEY", f->license_key);
                        journal_fields_add(&l, "PRODUCT", f->product);
                        journal_fields_add(&l, "MACHINE_ID", f->machine_id);
                        journal_fields_add(&l, "HARDWARE_ID", f->hardware_id);
                        journal_fields_add(&l, "CLIENT", f->client);
                        journal_fields_add(&l, "TOKEN_NAME", f->token_name);
                        journal_fields_add(&l, "ERROR", f->error);
                }
                r = journal_fields_send(&l);
        }
        /* Not under the journal, or journald did not take it: the line is
         * not lost. */
        if (r < 0) {
                if (message_id)
                        report_error(0, "%s [MESSAGE_ID=%s]", message, message_id);
                else
                        report_error(0, "%s", message);
        }
}

static void vlog(const char *message_id, int priority, const ServerEventFields *f, const char *fmt,
                 va_list ap) {
        char message[1024];

        vsnprintf(message, sizeof(message), fmt, ap);
        /* A request's path is the client's text, %0a and %1b included: one
         * request is one line, which no client can make look like another
         * (nor a terminal's escape sequence). */
        utf8_make_printable(message);
        emit(message_id, priority, f, message);
}

void server_log_at(int priority, const char *fmt, ...) {
        va_list ap;

        va_start(ap, fmt);
        vlog(NULL, priority, NULL, fmt, ap);
        va_end(ap);
}

void server_log(const char *fmt, ...) {
        va_list ap;

        va_start(ap, fmt);
        vlog(NULL, LOG_INFO, NULL, fmt, ap);
        va_end(ap);
}

int server_log_error(int r, const char *fmt, ...) {
        va_list ap;

        va_start(ap, fmt);
        vlog(NULL, LOG_ERR, NULL, fmt, ap);
        va_end(ap);
        return r;
}

void server_event(const char *message_id, int priority, const ServerEventFields *f, const char *fmt, ...) {
        va_list ap;

        va_start(ap, fmt);
        vlog(message_id, priority, f, fmt, ap);
        va_end(ap);
}
