/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* licensectl status: the state of this machine, as hostnamectl shows a host. */

#include <inttypes.h>
#include <stddef.h>

#include "ctl-bus.h"
#include "ctl-license.h"
#include "ctl-list.h"
#include "ctl-output.h"
#include "time-units.h"

#define STATUS_LABEL_WIDTH 15

typedef struct ManagerInfo {
        const char *version;
        const char *machine_id;
        const char *device_key;
        const char *state;
        const char *summary;
        uint32_t license_count;
        uint64_t next_validation;
} ManagerInfo;

static const CtlProperty manager_properties[] = {
        {"Version", "s", NULL, offsetof(ManagerInfo, version)},
        {"MachineId", "s", NULL, offsetof(ManagerInfo, machine_id)},
        {"DeviceKey", "s", NULL, offsetof(ManagerInfo, device_key)},
        {"State", "s", NULL, offsetof(ManagerInfo, state)},
        {"Summary", "s", NULL, offsetof(ManagerInfo, summary)},
        {"LicenseCount", "u", NULL, offsetof(ManagerInfo, license_count)},
        {"NextValidation", "t", NULL, offsetof(ManagerInfo, next_validation)},
        {},
};

/* The days trial license row has left (license_trial_days_left()): the
 * type is not in ListLicenses, so each license's properties are read
 * (status is the overview of a machine, which holds a few licenses). */
static int read_trial_days_left(Ctl *c, const LicenseRow *row, uint64_t now, int64_t *ret) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *props = NULL;
        _cleanup_(license_info_done) LicenseInfo l = {};
        int r;

        r = ctl_get_license_info(c, row->path, &l, &props);
        if (r != 0)
                return r;
        *ret = license_trial_days_left(&l, now);
        return 0;
}

static int print_status_json(Ctl *c, const ManagerInfo *m, const LicenseRow *rows, size_t n) {
        uint64_t now = now_usec(CLOCK_REALTIME);
        json_object *o = json_object_new_object(), *a = json_object_new_array();
        int r = 0;

        if (!o || !a) {
                json_object_put(o);
                json_object_put(a);
                return ctl_oom();
        }
        json_object_object_add(o, "version", json_string_or_null(m->version));
        json_object_object_add(o, "machine_id", json_string_or_null(m->machine_id));
        json_object_object_add(o, "device_key", json_string_or_null(m->device_key));
        json_object_object_add(o, "state", json_string_or_null(m->state));
        json_object_object_add(o, "summary", json_string_or_null(m->summary));
        json_object_object_add(o, "license_count", json_object_new_int64(m->license_count));
        json_object_object_add(o, "next_validation", json_timestamp(m->next_validation));
        json_object_object_add(o, "licenses", a);
        for (size_t i = 0; r == 0 && i < n; i++) {
                json_object *l = license_row_to_json(&rows[i]);
                int64_t left = -1;

                /* As the "Trial" lines: null for a license that is no trial. */
                r = read_trial_days_left(c, &rows[i], now, &left);
                if (l)
                        json_object_object_add(l, "trial_days_left",
                                               left >= 0 ? json_object_new_int64(left) : NULL);
                json_object_array_add(a, l);
        }
        if (r != 0) {
                json_object_put(o);
                return r;
        }
        return json_print(o);
}

/* "Trial: com.example.app, 12 days left (license ID)" for each trial. */
static int print_trials(Ctl *c, const LicenseRow *rows, size_t n) {
        uint64_t now = now_usec(CLOCK_REALTIME);

        for (size_t i = 0; i < n; i++) {
                char buf[TRIAL_LEFT_MAX];
                int64_t left;
                int r;

                r = read_trial_days_left(c, &rows[i], now, &left);
                if (r != 0)
                        return r;
                if (left >= 0)
                        print_field(STATUS_LABEL_WIDTH, "Trial", NULL, "%s, %s (license %s)", rows[i].product,
                                    trial_left_format(left, buf), rows[i].id);
        }
        return 0;
}

static int print_license_lines(const Ctl *c, const LicenseRow *rows, size_t n) {
        _cleanup_(table_freep) Table *t = table_new("ID", "PRODUCT", "STATUS", "EXPIRES", NULL);

        if (!t)
                return ctl_oom();
        for (size_t i = 0; i < n; i++) {
                char buf[CTL_TIME_MAX];

                if (table_add_cell(t, rows[i].id, NULL) < 0 || table_add_cell(t, rows[i].product, NULL) < 0 ||
                    table_add_cell(t, rows[i].status, status_color(rows[i].status)) < 0 ||
                    table_add_cell(t, format_date(rows[i].expires, buf, "never"), NULL) < 0)
                        return ctl_oom();
        }
        putchar('\n');
        if (table_print(t, stdout, c->legend, ansi_highlight()) < 0)
                return ctl_oom();
        return 0;
}

int verb_status(_unused_ int argc, _unused_ char *argv[], void *userdata) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *props = NULL, *list = NULL;
        _cleanup_free_ LicenseRow *rows = NULL;
        ManagerInfo m = {};
        char buf[CTL_TIME_MAX];
        Ctl *c = userdata;
        size_t n = 0;
        int r;

        r = ctl_get_all(c, LICENSED_MANAGER_PATH, LICENSED_MANAGER_INTERFACE, manager_properties, &m, &props);
        if (r != 0)
                return r;
        r = ctl_list_licenses(c, false, &list, &rows, &n);
        if (r != 0)
                return r;

        pager_open(c);
        if (c->json)
                return print_status_json(c, &m, rows, n);

        print_field(STATUS_LABEL_WIDTH, "State", status_color(m.state), "%s", m.state ?: "unknown");
        if (m.summary && *m.summary)
                print_field(STATUS_LABEL_WIDTH, "Summary", NULL, "%s", m.summary);
        print_field(STATUS_LABEL_WIDTH, "Licenses", NULL, "%" PRIu32, m.license_count);
        print_field(STATUS_LABEL_WIDTH, "Next validation", NULL, "%s",
                    format_timestamp(m.next_validation, buf, "none due"));
        print_field(STATUS_LABEL_WIDTH, "Machine ID", NULL, "%s", m.machine_id ?: "unknown");
        if (m.device_key && *m.device_key)
                print_field(STATUS_LABEL_WIDTH, "Device key", NULL, "%s", m.device_key);
        print_field(STATUS_LABEL_WIDTH, "Daemon version", NULL, "%s", m.version ?: "unknown");
        r = print_trials(c, rows, n);
        if (r != 0)
                return r;

        if (n > 0)
                return print_license_lines(c, rows, n);
        return 0;
}
