/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* One structured journal entry, built a field at a time and sent with
 * sd_journal_sendv(): the events of licensed (daemon/events.c) and
 * licensed-server (server/server-log.c). */

#include <stddef.h>
#include <sys/uio.h>

#define JOURNAL_FIELDS_MAX 16

typedef struct JournalFields {
        struct iovec iov[JOURNAL_FIELDS_MAX];
        char *owned[JOURNAL_FIELDS_MAX];
        size_t n;
} JournalFields;

/* Adds NAME=value. A NULL value is left out: a field that does not apply
 * is not sent empty. Beyond JOURNAL_FIELDS_MAX, or out of memory, the
 * field is dropped: the entry still goes out. */
void journal_fields_add(JournalFields *l, const char *name, const char *value);

/* Sends the entry and frees the fields; sd_journal_sendv()'s result. */
int journal_fields_send(JournalFields *l);
