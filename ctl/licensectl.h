/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* licensectl: the administrator's CLI. One file per group of verbs; this
 * header ties them to the dispatcher in licensectl.c.
 *
 * Convention inside ctl/: a function that reports a failure to the user
 * (prints "licensectl: ...") returns the exit status to end with, 0 meaning
 * "go on". Helpers that print nothing return negative errno as in core/. */

#include <assert.h>
#include <stdbool.h>
#include <stdint.h>

#include <systemd/sd-bus.h>

#include "macro.h"
#include "report-error.h"
#include "time-units.h"

/* Exit statuses, the same for every verb (documented in --help and
 * licensectl(1)). 1 is the "no" of a question, so that "check" works as an
 * ExecCondition=. */
enum {
        CTL_EXIT_SUCCESS = 0,
        CTL_EXIT_NO = 1,          /* check: not licensed; validate: failed or revoked */
        CTL_EXIT_USAGE = 2,       /* bad options or arguments, detected before asking licensed */
        CTL_EXIT_UNREACHABLE = 3, /* the bus or licensed cannot be reached, or did not answer in time */
        CTL_EXIT_FAILURE = 4,     /* anything else: licensed refused, a file cannot be read... */
};


typedef enum QrMode {
        QR_AUTO,
        QR_ALWAYS,
        QR_NEVER,
} QrMode;

typedef enum SortBy {
        SORT_ID,
        SORT_EXPIRY,
        SORT_PRODUCT,
        SORT_STATUS,
        SORT_LICENSEE,
} SortBy;

/* The columns of "list" (ctl-list.c). */
typedef enum ListColumn {
        COLUMN_ID,
        COLUMN_PRODUCT,
        COLUMN_LICENSEE,
        COLUMN_STATUS,
        COLUMN_EXPIRES,
        COLUMN_TYPE,
        COLUMN_REVISION,
        COLUMN_KEY,
        COLUMN_ISSUED,
        COLUMN_INSTALLED,
        COLUMN_MAINTENANCE,
        COLUMN_LAST_VALIDATION,
        COLUMN_VALIDATE_BY,
        COLUMN_FEATURES,
        COLUMN_USAGE,
        _COLUMN_MAX,
} ListColumn;

#define LIST_COLUMNS_MAX 32

typedef struct Ctl {
        /* global options */
        bool json;
        bool interactive; /* polkit may ask for a password */
        bool pager;
        bool legend;
        const char *bus_address; /* NULL: the system bus */

        /* verb options, checked in licensectl.c against the verb */
        bool offline;
        bool quiet;
        const char *product;
        const char *status;
        const char *output;
        SortBy sort;
        ListColumn columns[LIST_COLUMNS_MAX]; /* --columns, n_columns 0: the usual ones */
        size_t n_columns;
        const char *grep;
        QrMode qr;
        uint64_t release_date; /* µs since the epoch, 0 = not given */
        const char *token;       /* site join */
        const char *fingerprint; /* site join */
        int64_t borrow_for;      /* borrow: seconds, 0 = not given */

        sd_bus *bus;     /* connected on first use */
        pid_t agent_pid; /* pkttyagent, started before the first change (ctl-polkit-agent.h) */
} Ctl;

int verb_status(int argc, char *argv[], void *userdata);
int verb_list(int argc, char *argv[], void *userdata);
int verb_products(int argc, char *argv[], void *userdata);
int verb_show(int argc, char *argv[], void *userdata);
int verb_activate(int argc, char *argv[], void *userdata);
int verb_trial(int argc, char *argv[], void *userdata);
int verb_install(int argc, char *argv[], void *userdata);
int verb_deactivate(int argc, char *argv[], void *userdata);
int verb_export(int argc, char *argv[], void *userdata);
int verb_validate(int argc, char *argv[], void *userdata);
int verb_check(int argc, char *argv[], void *userdata);
int verb_site(int argc, char *argv[], void *userdata);
int verb_borrow(int argc, char *argv[], void *userdata);
int verb_return(int argc, char *argv[], void *userdata);

static inline int ctl_oom(void) {
        return report_error(CTL_EXIT_FAILURE, "out of memory");
}
