/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* licensectl show ID: every property of one license object. */

#include <inttypes.h>
#include <stddef.h>

#include "ctl-bus.h"
#include "ctl-license.h"
#include "ctl-output.h"
#include "time-units.h"

#define SHOW_LABEL_WIDTH 19

static json_object *feature_to_json(const Feature *f) {
        json_object *o = json_object_new_object();

        if (!o)
                return NULL;
        json_object_object_add(o, "name", json_object_new_string(f->name));
        json_object_object_add(o, "licensed", json_object_new_boolean(f->licensed));
        json_object_object_add(o, "reason", json_object_new_string(f->reason));
        json_object_object_add(o, "expires", json_timestamp(f->expires));
        json_object_object_add(o, "grace_end", json_timestamp(f->grace_end));
        json_object_object_add(o, "limit", f->limit ? json_object_new_int64(f->limit) : NULL);
        json_object_object_add(o, "in_use", json_object_new_int64(f->in_use));
        return o;
}

static int print_license_json(const LicenseInfo *l, const char *path) {
        int64_t left;
        json_object *o = json_object_new_object(), *features = json_object_new_array(),
                    *props = json_object_new_object();

        if (!o || !features || !props) {
                json_object_put(o);
                json_object_put(features);
                json_object_put(props);
                return ctl_oom();
        }
        json_object_object_add(o, "id", json_string_or_null(l->id));
        json_object_object_add(o, "revision", json_object_new_int64(l->revision));
        json_object_object_add(o, "product", json_string_or_null(l->product));
        json_object_object_add(o, "licensee", json_string_or_null(l->licensee));
        json_object_object_add(o, "type", json_string_or_null(l->type));
        json_object_object_add(o, "status", json_string_or_null(l->status));
        json_object_object_add(o, "key", l->key && *l->key ? json_object_new_string(l->key) : NULL);
        json_object_object_add(o, "issued", json_timestamp(l->issued));
        json_object_object_add(o, "not_before", json_timestamp(l->not_before));
        json_object_object_add(o, "expires", json_timestamp(l->expires));
        json_object_object_add(o, "maintenance_until", json_timestamp(l->maintenance_until));
        json_object_object_add(o, "installed", json_timestamp(l->installed));
        json_object_object_add(o, "last_validation", json_timestamp(l->last_validation));
        json_object_object_add(o, "grace_end", json_timestamp(l->grace_end));
        /* As status's: the days a trial has left, null for other types. */
        left = license_trial_days_left(l, now_usec(CLOCK_REALTIME));
        json_object_object_add(o, "trial_days_left", left >= 0 ? json_object_new_int64(left) : NULL);
        json_object_object_add(o, "validation_interval_sec",
                               json_object_new_int64((int64_t) (l->validation_interval / USEC_PER_SEC)));
        json_object_object_add(o, "server_url",
                               l->server_url && *l->server_url ? json_object_new_string(l->server_url) : NULL);
        for (size_t i = 0; i < l->features.n; i++)
                json_object_array_add(features, feature_to_json(&l->features.items[i]));
        json_object_object_add(o, "features", features);
        for (size_t i = 0; i < l->properties.n; i++)
                json_object_object_add(props, l->properties.items[i].name,
                                       json_object_new_string(l->properties.items[i].value));
        json_object_object_add(o, "properties", props);
        json_object_object_add(o, "object", json_object_new_string(path));
        return json_print(o);
}

static int print_features(const Ctl *c, const FeatureList *features) {
        _cleanup_(table_freep) Table *t = table_new("FEATURE", "LICENSED", "REASON", "EXPIRES", "LIMIT", "IN USE",
                                                    NULL);

        if (!t)
                return ctl_oom();
        for (size_t i = 0; i < features->n; i++) {
                const Feature *f = &features->items[i];
                char exp[CTL_TIME_MAX], grace[CTL_TIME_MAX];
                int r;

                r = table_add_cell(t, f->name, NULL);
                if (r >= 0)
                        r = table_add_cell(t, f->licensed ? "yes" : "no", status_color(f->licensed ? "ok" : "failed"));
                if (r >= 0 && f->grace_end && streq(f->reason, "grace"))
                        r = table_add_cellf(t, "grace until %s", format_date(f->grace_end, grace, "?"));
                else if (r >= 0)
                        r = table_add_cell(t, f->reason, status_color(f->reason));
                if (r >= 0)
                        r = table_add_cell(t, format_date(f->expires, exp, "never"), NULL);
                if (r >= 0)
                        r = f->limit ? table_add_cellf(t, "%" PRIu32, f->limit) : table_add_cell(t, "-", NULL);
                if (r >= 0)
                        r = f->limit ? table_add_cellf(t, "%" PRIu32, f->in_use) : table_add_cell(t, "-", NULL);
                if (r < 0)
                        return ctl_oom();
        }
        putchar('\n');
        if (table_print(t, stdout, c->legend, ansi_highlight()) < 0)
                return ctl_oom();
        return 0;
}

static int print_license(const Ctl *c, const LicenseInfo *l) {
        char buf[CTL_TIME_MAX], left_buf[TRIAL_LEFT_MAX];
        const char *description = l->status ? reason_description(l->status) : NULL;
        const char *left = license_trial_left(l, now_usec(CLOCK_REALTIME), left_buf);

#define FIELD(label, color, ...) print_field(SHOW_LABEL_WIDTH, label, color, __VA_ARGS__)
        FIELD("License", ansi_highlight(), "%s", l->id ?: "?");
        FIELD("Revision", NULL, "%" PRIu32, l->revision);
        FIELD("Product", NULL, "%s", l->product ?: "?");
        FIELD("Licensee", NULL, "%s", l->licensee ?: "?");
        if (left)
                FIELD("Type", NULL, "%s (%s)", l->type, left);
        else
                FIELD("Type", NULL, "%s", l->type ?: "?");
        if (description && !streq(l->status, "licensed"))
                FIELD("Status", status_color(l->status), "%s (%s)", l->status, description);
        else
                FIELD("Status", status_color(l->status), "%s", l->status ?: "?");
        FIELD("License key", NULL, "%s", l->key && *l->key ? l->key : "(none)");
        FIELD("Issued", NULL, "%s", format_timestamp(l->issued, buf, "?"));
        FIELD("Not before", NULL, "%s", format_timestamp(l->not_before, buf, "(from issue)"));
        FIELD("Expires", NULL, "%s", format_timestamp(l->expires, buf, "never"));
        FIELD("Maintenance until", NULL, "%s", format_timestamp(l->maintenance_until, buf, "(all versions)"));
        FIELD("Installed", NULL, "%s", format_timestamp(l->installed, buf, "?"));
        FIELD("Validation every", NULL, "%s", format_duration(l->validation_interval, buf, "(not required)"));
        /* A license that need not validate may still have been validated
         * (an offline receipt installed by hand): show when, then too. */
        if (l->validation_interval > 0 || l->last_validation > 0)
                FIELD("Last validation", NULL, "%s", format_timestamp(l->last_validation, buf, "never"));
        if (l->validation_interval > 0)
                FIELD("Server", NULL, "%s", l->server_url && *l->server_url ? l->server_url : "(none)");
        if (l->grace_end)
                FIELD(streq_ptr(l->status, "grace") ? "Grace period ends" : "Validate by", NULL, "%s",
                      format_timestamp(l->grace_end, buf, "?"));
        for (size_t i = 0; i < l->properties.n; i++)
                FIELD(i == 0 ? "Properties" : NULL, NULL, "%s=%s", l->properties.items[i].name,
                      l->properties.items[i].value);
#undef FIELD

        if (l->features.n == 0) {
                printf("\nThis license has no features.\n");
                return 0;
        }
        return print_features(c, &l->features);
}

int verb_show(_unused_ int argc, char *argv[], void *userdata) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *path_reply = NULL, *props = NULL;
        _cleanup_(license_info_done) LicenseInfo l = {};
        const char *path;
        Ctl *c = userdata;
        int r;

        r = ctl_get_license_path(c, argv[1], &path_reply, &path);
        if (r != 0)
                return r;
        r = ctl_get_license_info(c, path, &l, &props);
        if (r != 0)
                return r;

        pager_open(c);
        if (c->json)
                return print_license_json(&l, path);
        return print_license(c, &l);
}
