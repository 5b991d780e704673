/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* pam_licensed: an account module that lets a user in only while a feature
 * of a product is licensed on this machine.
 *
 *   account required pam_licensed.so product=P feature=F [release_date=YYYY-MM-DD]
 *                    [unreachable=deny|allow|ignore] [message=TEXT] [debug]
 *
 * Results, and why: docs/pam.md. It asks through liblicensed (linked
 * dynamically), so the snapshot answers without IPC when it can. */

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include <security/pam_ext.h>
#include <security/pam_modules.h>

#include "licensed.h"
#include "macro.h"
#include "time-units.h"

typedef enum Unreachable {
        UNREACHABLE_DENY,   /* PAM_AUTHINFO_UNAVAIL */
        UNREACHABLE_ALLOW,  /* PAM_SUCCESS */
        UNREACHABLE_IGNORE, /* PAM_IGNORE: the other modules decide */
} Unreachable;

typedef struct Options {
        const char *product;
        const char *feature;
        const char *message;
        uint64_t release_date_usec;
        Unreachable unreachable;
        bool debug;
} Options;

static const char *option_value(const char *arg, const char *name) {
        size_t n = strlen(name);

        return strncmp(arg, name, n) == 0 && arg[n] == '=' ? arg + n + 1 : NULL;
}

/* "2026-06-01" as microseconds since the epoch (midnight UTC). */
static int parse_date(const char *s, uint64_t *ret) {
        struct tm tm = {}, check;
        int n = 0;
        time_t t;

        if (sscanf(s, "%4d-%2d-%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &n) != 3 || s[n] != '\0' ||
            strlen(s) != 10)
                return -EINVAL;
        tm.tm_year -= 1900;
        tm.tm_mon -= 1;
        check = tm;
        /* timegm() normalizes 2026-02-30 to March 2: a date that moved was not a date */
        t = timegm(&tm);
        if (t <= 0 || tm.tm_mday != check.tm_mday || tm.tm_mon != check.tm_mon ||
            tm.tm_year != check.tm_year)
                return -EINVAL;
        *ret = (uint64_t) t * USEC_PER_SEC;
        return 0;
}

static int parse_options(pam_handle_t *pamh, int argc, const char **argv, Options *ret) {
        Options o = {};
        const char *v;

        for (int i = 0; i < argc; i++) {
                const char *a = argv[i];

                if ((v = option_value(a, "product")))
                        o.product = v;
                else if ((v = option_value(a, "feature")))
                        o.feature = v;
                else if ((v = option_value(a, "message")))
                        o.message = v;
                else if ((v = option_value(a, "release_date"))) {
                        if (parse_date(v, &o.release_date_usec) < 0) {
                                pam_syslog(pamh, LOG_ERR, "release_date=%s is not a date (YYYY-MM-DD)", v);
                                return -EINVAL;
                        }
                } else if ((v = option_value(a, "unreachable"))) {
                        if (strcmp(v, "deny") == 0)
                                o.unreachable = UNREACHABLE_DENY;
                        else if (strcmp(v, "allow") == 0)
                                o.unreachable = UNREACHABLE_ALLOW;
                        else if (strcmp(v, "ignore") == 0)
                                o.unreachable = UNREACHABLE_IGNORE;
                        else {
                                pam_syslog(pamh, LOG_ERR, "unreachable=%s: expected deny, allow or ignore",
                                           v);
                                return -EINVAL;
                        }
                } else if (strcmp(a, "debug") == 0)
                        o.debug = true;
                else {
                        pam_syslog(pamh, LOG_ERR, "unknown option '%s'", a);
                        return -EINVAL;
                }
        }
        if (!o.product || !o.feature) {
                pam_syslog(pamh, LOG_ERR, "product= and feature= are required");
                return -EINVAL;
        }
        *ret = o;
        return 0;
}

static const char *user_name(pam_handle_t *pamh) {
        const char *user = NULL;

        if (pam_get_item(pamh, PAM_USER, (const void **) &user) != PAM_SUCCESS || !user)
                return "(unknown)";
        return user;
}

static int cannot_ask(pam_handle_t *pamh, int flags, const Options *o, int error) {
        const char *user = user_name(pamh);

        switch (o->unreachable) {
        case UNREACHABLE_ALLOW:
                pam_syslog(pamh, LOG_WARNING, "cannot check %s %s for %s (%s); allowed (unreachable=allow)",
                           o->product, o->feature, user, strerror(-error));
                return PAM_SUCCESS;
        case UNREACHABLE_IGNORE:
                pam_syslog(pamh, LOG_WARNING, "cannot check %s %s for %s (%s); ignored (unreachable=ignore)",
                           o->product, o->feature, user, strerror(-error));
                return PAM_IGNORE;
        case UNREACHABLE_DENY:
        default:
                pam_syslog(pamh, LOG_ERR, "cannot check %s %s for %s (%s); denied", o->product, o->feature,
                           user, strerror(-error));
                if (!(flags & PAM_SILENT))
                        pam_error(pamh, "%s", o->message ?: "The license service is not available.");
                return PAM_AUTHINFO_UNAVAIL;
        }
}

_public_ int pam_sm_acct_mgmt(pam_handle_t *pamh, int flags, int argc, const char **argv) {
        licensed_verdict v;
        Options o;
        int r;

        if (parse_options(pamh, argc, argv, &o) < 0)
                return PAM_SERVICE_ERR;

        r = licensed_check_feature(o.product, o.feature, o.release_date_usec, &v);
        if (r == -EINVAL) {
                pam_syslog(pamh, LOG_ERR, "product=%s feature=%s: not a valid product id or feature name",
                           o.product, o.feature);
                return PAM_SERVICE_ERR;
        }
        if (r < 0)
                return cannot_ask(pamh, flags, &o, r);

        if (v.licensed) {
                if (o.debug)
                        pam_syslog(pamh, LOG_DEBUG, "%s %s is licensed (%s, from the %s) for %s", o.product,
                                   o.feature, v.reason,
                                   v.source == LICENSED_SOURCE_SNAPSHOT ? "snapshot" : "daemon",
                                   user_name(pamh));
                return PAM_SUCCESS;
        }

        pam_syslog(pamh, LOG_NOTICE, "%s %s is not licensed (%s); denied %s", o.product, o.feature, v.reason,
                   user_name(pamh));
        if (!(flags & PAM_SILENT)) {
                if (o.message)
                        pam_error(pamh, "%s", o.message);
                else
                        pam_error(pamh, "%s of %s is not licensed on this machine: %s.", o.feature,
                                  o.product, licensed_reason_description(v.reason));
        }
        return PAM_PERM_DENIED;
}
