/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* licensectl list, licensectl products. */

#include "ctl-bus.h"
#include "ctl-list.h"
#include "ctl-output.h"

static int compare_rows(const void *a, const void *b, void *userdata) {
        const LicenseRow *x = a, *y = b;
        const SortBy *sort = userdata;
        int d = 0;

        switch (*sort) {
        case SORT_EXPIRY:
                /* "never" sorts last: the licenses that end first matter most */
                if (x->expires != y->expires)
                        d = (x->expires ?: UINT64_MAX) < (y->expires ?: UINT64_MAX) ? -1 : 1;
                break;
        case SORT_PRODUCT:
                d = strcmp(x->product, y->product);
                break;
        case SORT_STATUS:
                d = strcmp(x->status, y->status);
                break;
        case SORT_ID:
                break;
        }
        return d ?: strcmp(x->id, y->id);
}

int ctl_list_licenses(Ctl *c, bool filter, sd_bus_message **ret_reply, LicenseRow **ret_rows, size_t *ret_n) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_free_ LicenseRow *rows = NULL;
        size_t n = 0;
        int r;

        r = ctl_call(c, "ListLicenses", CTL_TIMEOUT_USEC, &reply, NULL);
        if (r != 0)
                return r;

        r = sd_bus_message_enter_container(reply, 'a', "(ssssto)");
        while (r >= 0) {
                LicenseRow l;
                LicenseRow *nr;

                r = sd_bus_message_read(reply, "(ssssto)", &l.id, &l.product, &l.licensee, &l.status, &l.expires,
                                        &l.path);
                if (r <= 0)
                        break;
                if (filter && ((c->product && !streq(c->product, l.product)) ||
                               (c->status && !streq(c->status, l.status))))
                        continue;
                nr = reallocarray(rows, n + 1, sizeof(LicenseRow));
                if (!nr)
                        return ctl_oom();
                rows = nr;
                rows[n++] = l;
        }
        if (r >= 0)
                r = sd_bus_message_exit_container(reply);
        if (r < 0)
                return report_error(CTL_EXIT_FAILURE,
                                    "licensed sent a list of licenses that cannot be read: %s",
                                    strerror(-r));

        if (n > 1)
                qsort_r(rows, n, sizeof(LicenseRow), compare_rows, &c->sort);

        *ret_reply = TAKE_PTR(reply);
        *ret_rows = TAKE_PTR(rows);
        *ret_n = n;
        return 0;
}

json_object *license_row_to_json(const LicenseRow *l) {
        json_object *o = json_object_new_object();

        if (!o)
                return NULL;
        json_object_object_add(o, "id", json_object_new_string(l->id));
        json_object_object_add(o, "product", json_object_new_string(l->product));
        json_object_object_add(o, "licensee", json_object_new_string(l->licensee));
        json_object_object_add(o, "status", json_object_new_string(l->status));
        json_object_object_add(o, "expires", json_timestamp(l->expires));
        json_object_object_add(o, "object", json_object_new_string(l->path));
        return o;
}

int verb_list(_unused_ int argc, _unused_ char *argv[], void *userdata) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(table_freep) Table *t = NULL;
        _cleanup_free_ LicenseRow *rows = NULL;
        Ctl *c = userdata;
        size_t n = 0;
        int r;

        r = ctl_list_licenses(c, true, &reply, &rows, &n);
        if (r != 0)
                return r;

        if (c->json) {
                json_object *a = json_object_new_array();

                for (size_t i = 0; a && i < n; i++)
                        json_object_array_add(a, license_row_to_json(&rows[i]));
                pager_open(c);
                return json_print(a);
        }

        t = table_new("ID", "PRODUCT", "LICENSEE", "STATUS", "EXPIRES", NULL);
        if (!t)
                return ctl_oom();
        for (size_t i = 0; i < n; i++) {
                char buf[CTL_TIME_MAX];

                if (table_add_cell(t, rows[i].id, NULL) < 0 || table_add_cell(t, rows[i].product, NULL) < 0 ||
                    table_add_cell(t, rows[i].licensee, NULL) < 0 ||
                    table_add_cell(t, rows[i].status, status_color(rows[i].status)) < 0 ||
                    table_add_cell(t, format_date(rows[i].expires, buf, "never"), NULL) < 0)
                        return ctl_oom();
        }

        pager_open(c);
        if (n > 0 && table_print(t, stdout, c->legend, ansi_highlight()) < 0)
                return ctl_oom();
        if (c->legend)
                printf("%s%zu license%s listed.\n", n > 0 ? "\n" : "", n, n == 1 ? "" : "s");
        return 0;
}

int ctl_list_products(Ctl *c, sd_bus_message **ret_reply, ProductRow **ret_rows, size_t *ret_n) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_free_ ProductRow *rows = NULL;
        size_t n = 0;
        int r;

        r = ctl_call(c, "ListProducts", CTL_TIMEOUT_USEC, &reply, NULL);
        if (r != 0)
                return r;

        r = sd_bus_message_enter_container(reply, 'a', "(ssss)");
        while (r >= 0) {
                ProductRow p;
                ProductRow *nr;

                r = sd_bus_message_read(reply, "(ssss)", &p.id, &p.name, &p.server_url, &p.offline_url);
                if (r <= 0)
                        break;
                nr = reallocarray(rows, n + 1, sizeof(ProductRow));
                if (!nr)
                        return ctl_oom();
                rows = nr;
                rows[n++] = p;
        }
        if (r >= 0)
                r = sd_bus_message_exit_container(reply);
        if (r < 0)
                return report_error(CTL_EXIT_FAILURE,
                                    "licensed sent a list of products that cannot be read: %s",
                                    strerror(-r));

        *ret_reply = TAKE_PTR(reply);
        *ret_rows = TAKE_PTR(rows);
        *ret_n = n;
        return 0;
}

static json_object *product_row_to_json(const ProductRow *p) {
        json_object *o = json_object_new_object();

        if (!o)
                return NULL;
        json_object_object_add(o, "id", json_object_new_string(p->id));
        json_object_object_add(o, "name", json_object_new_string(p->name));
        json_object_object_add(o, "server_url", *p->server_url ? json_object_new_string(p->server_url) : NULL);
        json_object_object_add(o, "offline_url", *p->offline_url ? json_object_new_string(p->offline_url) : NULL);
        return o;
}

int verb_products(_unused_ int argc, _unused_ char *argv[], void *userdata) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(table_freep) Table *t = NULL;
        _cleanup_free_ ProductRow *rows = NULL;
        Ctl *c = userdata;
        size_t n = 0;
        int r;

        r = ctl_list_products(c, &reply, &rows, &n);
        if (r != 0)
                return r;

        if (c->json) {
                json_object *a = json_object_new_array();

                for (size_t i = 0; a && i < n; i++)
                        json_object_array_add(a, product_row_to_json(&rows[i]));
                return json_print(a);
        }

        t = table_new("ID", "NAME", "SERVER", "OFFLINE ACTIVATION", NULL);
        if (!t)
                return ctl_oom();
        for (size_t i = 0; i < n; i++)
                if (table_add_cell(t, rows[i].id, NULL) < 0 || table_add_cell(t, rows[i].name, NULL) < 0 ||
                    table_add_cell(t, *rows[i].server_url ? rows[i].server_url : "-", NULL) < 0 ||
                    table_add_cell(t, *rows[i].offline_url ? rows[i].offline_url : "-", NULL) < 0)
                        return ctl_oom();

        if (n > 0 && table_print(t, stdout, c->legend, ansi_highlight()) < 0)
                return ctl_oom();
        if (c->legend)
                printf("%s%zu product%s.\n", n > 0 ? "\n" : "", n, n == 1 ? "" : "s");
        return 0;
}
