/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-journal.h>

#include "journal-fields.h"

void journal_fields_add(JournalFields *l, const char *name, const char *value) {
        char *s;

        if (!value || l->n >= JOURNAL_FIELDS_MAX || asprintf(&s, "%s=%s", name, value) < 0)
                return;
        l->owned[l->n] = s;
        l->iov[l->n++] = (struct iovec){.iov_base = s, .iov_len = strlen(s)};
}

int journal_fields_send(JournalFields *l) {
        int r = sd_journal_sendv(l->iov, (int) l->n);

        for (size_t i = 0; i < l->n; i++)
                free(l->owned[i]);
        l->n = 0;
        return r;
}
