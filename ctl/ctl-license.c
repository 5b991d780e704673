/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Reading a license object's properties into a LicenseInfo. */

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "ctl-bus.h"
#include "ctl-license.h"
#include "time-units.h"

void license_info_done(LicenseInfo *l) {
        free(l->features.items);
        free(l->properties.items);
}

static int parse_features(sd_bus_message *m, void *field) {
        FeatureList *list = field;
        int r;

        r = sd_bus_message_enter_container(m, 'a', "(sbsttuu)");
        if (r < 0)
                return r;
        for (;;) {
                Feature f;
                Feature *n;
                int b;

                r = sd_bus_message_read(m, "(sbsttuu)", &f.name, &b, &f.reason, &f.expires, &f.grace_end, &f.limit,
                                        &f.in_use);
                if (r < 0)
                        return r;
                if (r == 0)
                        break;
                f.licensed = b;
                n = reallocarray(list->items, list->n + 1, sizeof(Feature));
                if (!n)
                        return -ENOMEM;
                list->items = n;
                list->items[list->n++] = f;
        }
        return sd_bus_message_exit_container(m);
}

static int parse_properties(sd_bus_message *m, void *field) {
        PropertyList *list = field;
        int r;

        r = sd_bus_message_enter_container(m, 'a', "{ss}");
        if (r < 0)
                return r;
        for (;;) {
                Property p;
                Property *n;

                r = sd_bus_message_read(m, "{ss}", &p.name, &p.value);
                if (r < 0)
                        return r;
                if (r == 0)
                        break;
                n = reallocarray(list->items, list->n + 1, sizeof(Property));
                if (!n)
                        return -ENOMEM;
                list->items = n;
                list->items[list->n++] = p;
        }
        return sd_bus_message_exit_container(m);
}

static const CtlProperty license_properties[] = {
        {"Id", "s", NULL, offsetof(LicenseInfo, id)},
        {"Revision", "u", NULL, offsetof(LicenseInfo, revision)},
        {"Product", "s", NULL, offsetof(LicenseInfo, product)},
        {"Licensee", "s", NULL, offsetof(LicenseInfo, licensee)},
        {"Type", "s", NULL, offsetof(LicenseInfo, type)},
        {"Status", "s", NULL, offsetof(LicenseInfo, status)},
        {"Key", "s", NULL, offsetof(LicenseInfo, key)},
        {"Issued", "t", NULL, offsetof(LicenseInfo, issued)},
        {"NotBefore", "t", NULL, offsetof(LicenseInfo, not_before)},
        {"Expires", "t", NULL, offsetof(LicenseInfo, expires)},
        {"MaintenanceUntil", "t", NULL, offsetof(LicenseInfo, maintenance_until)},
        {"Installed", "t", NULL, offsetof(LicenseInfo, installed)},
        {"Features", "a(sbsttuu)", parse_features, offsetof(LicenseInfo, features)},
        {"Properties", "a{ss}", parse_properties, offsetof(LicenseInfo, properties)},
        {"LastValidation", "t", NULL, offsetof(LicenseInfo, last_validation)},
        {"GraceEnd", "t", NULL, offsetof(LicenseInfo, grace_end)},
        {"ValidationInterval", "t", NULL, offsetof(LicenseInfo, validation_interval)},
        {"ServerURL", "s", NULL, offsetof(LicenseInfo, server_url)},
        {},
};

int ctl_get_license_info(Ctl *c, const char *path, LicenseInfo *ret, sd_bus_message **ret_reply) {
        return ctl_get_all(c, path, LICENSED_LICENSE_INTERFACE, license_properties, ret, ret_reply);
}

int64_t license_trial_days_left(const LicenseInfo *l, uint64_t now) {
        uint64_t day = 86400 * USEC_PER_SEC;

        if (!l->type || !streq(l->type, "trial") || l->expires == 0)
                return -1;
        if (l->expires <= now)
                return 0;
        /* A day begun counts, as in the daemon's warnings (days_left()). */
        return (int64_t) ((l->expires - now + day - 1) / day);
}

const char *license_trial_left(const LicenseInfo *l, uint64_t now, char buf[static TRIAL_LEFT_MAX]) {
        return trial_left_format(license_trial_days_left(l, now), buf);
}

const char *trial_left_format(int64_t left, char buf[static TRIAL_LEFT_MAX]) {
        if (left < 0)
                return NULL;
        if (left == 0)
                return "ended";
        snprintf(buf, TRIAL_LEFT_MAX, "%" PRId64 " day%s left", left, left == 1 ? "" : "s");
        return buf;
}
