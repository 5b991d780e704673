/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* licensectl list, licensectl products. */

#include <inttypes.h>
#include <strings.h>

#include "ctl-bus.h"
#include "ctl-license.h"
#include "ctl-list.h"
#include "ctl-output.h"

/* The columns of list: their --columns name, header and JSON name. The
 * first five are ListLicenses' own; the others need the license's
 * properties (one GetAll each). */
static const struct {
        const char *name;
        const char *header;
} column_table[_COLUMN_MAX] = {
        [COLUMN_ID] = {"id", "ID"},
        [COLUMN_PRODUCT] = {"product", "PRODUCT"},
        [COLUMN_LICENSEE] = {"licensee", "LICENSEE"},
        [COLUMN_STATUS] = {"status", "STATUS"},
        [COLUMN_EXPIRES] = {"expires", "EXPIRES"},
        [COLUMN_TYPE] = {"type", "TYPE"},
        [COLUMN_REVISION] = {"revision", "REV"},
        [COLUMN_KEY] = {"key", "KEY"},
        [COLUMN_ISSUED] = {"issued", "ISSUED"},
        [COLUMN_INSTALLED] = {"installed", "INSTALLED"},
        [COLUMN_MAINTENANCE] = {"maintenance", "MAINTENANCE"},
        [COLUMN_LAST_VALIDATION] = {"last-validation", "LAST VALIDATION"},
        [COLUMN_VALIDATE_BY] = {"validate-by", "VALIDATE BY"},
        [COLUMN_FEATURES] = {"features", "FEATURES"},
        [COLUMN_USAGE] = {"usage", "USAGE"},
};

static const ListColumn usual_columns[] = {
        COLUMN_ID, COLUMN_PRODUCT, COLUMN_LICENSEE, COLUMN_STATUS, COLUMN_EXPIRES,
};

int list_columns_parse(const char *text, ListColumn columns[static LIST_COLUMNS_MAX], size_t *ret_n) {
        const char *p = text;
        size_t n = 0;

        if (*p == '+') { /* added to the usual ones */
                memcpy(columns, usual_columns, sizeof(usual_columns));
                n = ELEMENTSOF(usual_columns);
                p++;
        }
        while (*p) {
                size_t len = strcspn(p, ","), i;

                for (i = 0; i < _COLUMN_MAX; i++)
                        if (strlen(column_table[i].name) == len && strncmp(p, column_table[i].name, len) == 0)
                                break;
                if (i == _COLUMN_MAX) {
                        _cleanup_free_ char *names = NULL;
                        size_t names_len = 0;
                        FILE *f = open_memstream(&names, &names_len);

                        if (!f)
                                return -ENOMEM;
                        for (size_t j = 0; j < _COLUMN_MAX; j++)
                                fprintf(f, "%s%s", j > 0 ? ", " : "", column_table[j].name);
                        if (fclose(f) != 0)
                                return -ENOMEM;
                        return report_error(-EINVAL, "--columns=%s: there is no column '%.*s'; use %s.", text,
                                            (int) len, p, names);
                }
                if (n == LIST_COLUMNS_MAX)
                        return report_error(-EINVAL, "--columns=%s: at most %d columns.", text, LIST_COLUMNS_MAX);
                columns[n++] = (ListColumn) i;
                p += len;
                if (*p == ',')
                        p++;
        }
        if (n == 0)
                return report_error(-EINVAL, "--columns needs at least one column, such as id,type,usage.");
        *ret_n = n;
        return 0;
}

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
        case SORT_LICENSEE:
                d = strcasecmp(x->licensee, y->licensee) ?: strcmp(x->licensee, y->licensee);
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

/* One row of list with the license's properties, when a column or --grep
 * needs them. */
typedef struct ListEntry {
        const LicenseRow *row;
        LicenseInfo info;
        sd_bus_message *props;
} ListEntry;

static void list_entries_free(ListEntry *e, size_t n) {
        for (size_t i = 0; i < n; i++) {
                license_info_done(&e[i].info);
                sd_bus_message_unref(e[i].props);
        }
        free(e);
}

static bool needs_info(const Ctl *c, const ListColumn *columns, size_t n) {
        if (c->grep)
                return true;
        for (size_t i = 0; i < n; i++)
                if (columns[i] > COLUMN_EXPIRES)
                        return true;
        return false;
}

static bool contains_text(const char *haystack, const char *needle) {
        return haystack && strcasestr(haystack, needle);
}

/* --grep: TEXT in the id, product, licensee, status, type, masked key, a
 * feature's name or a property's name or value, whatever the case. */
static bool entry_matches(const ListEntry *e, const char *text) {
        const LicenseInfo *l = &e->info;
        const char *fields[] = {e->row->id, e->row->product, e->row->licensee, e->row->status, l->type, l->key};

        for (size_t i = 0; i < ELEMENTSOF(fields); i++)
                if (contains_text(fields[i], text))
                        return true;
        for (size_t i = 0; i < l->features.n; i++)
                if (contains_text(l->features.items[i].name, text))
                        return true;
        for (size_t i = 0; i < l->properties.n; i++)
                if (contains_text(l->properties.items[i].name, text) ||
                    contains_text(l->properties.items[i].value, text))
                        return true;
        return false;
}

/* "reports 2/5, seats 0/10": the counted features, seats in use of the
 * limit; "-" if none is counted. */
static int usage_text(const LicenseInfo *l, char **ret) {
        _cleanup_free_ char *text = NULL;
        size_t len = 0, n = 0;
        FILE *f = open_memstream(&text, &len);

        if (!f)
                return -ENOMEM;
        for (size_t i = 0; i < l->features.n; i++) {
                const Feature *x = &l->features.items[i];

                if (x->limit)
                        fprintf(f, "%s%s %" PRIu32 "/%" PRIu32, n++ > 0 ? ", " : "", x->name, x->in_use, x->limit);
        }
        if (n == 0)
                fputs("-", f);
        if (fclose(f) != 0)
                return -ENOMEM;
        *ret = TAKE_PTR(text);
        return 0;
}

static int features_text(const LicenseInfo *l, char **ret) {
        _cleanup_free_ char *text = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&text, &len);

        if (!f)
                return -ENOMEM;
        for (size_t i = 0; i < l->features.n; i++)
                fprintf(f, "%s%s", i > 0 ? "," : "", l->features.items[i].name);
        if (l->features.n == 0)
                fputs("-", f);
        if (fclose(f) != 0)
                return -ENOMEM;
        *ret = TAKE_PTR(text);
        return 0;
}

static uint64_t column_time(const ListEntry *e, ListColumn col) {
        switch (col) {
        case COLUMN_EXPIRES: return e->row->expires;
        case COLUMN_ISSUED: return e->info.issued;
        case COLUMN_INSTALLED: return e->info.installed;
        case COLUMN_MAINTENANCE: return e->info.maintenance_until;
        case COLUMN_LAST_VALIDATION: return e->info.last_validation;
        case COLUMN_VALIDATE_BY: return e->info.grace_end;
        default: return 0;
        }
}

/* What a time column says when unset. */
static const char *column_unset(ListColumn col) {
        switch (col) {
        case COLUMN_EXPIRES: return "never";
        case COLUMN_MAINTENANCE: return "all versions";
        case COLUMN_LAST_VALIDATION: return "never";
        default: return "-";
        }
}

static bool column_is_time(ListColumn col) {
        return col == COLUMN_EXPIRES || col == COLUMN_ISSUED || col == COLUMN_INSTALLED ||
               col == COLUMN_MAINTENANCE || col == COLUMN_LAST_VALIDATION || col == COLUMN_VALIDATE_BY;
}

static int add_cell(Table *t, const ListEntry *e, ListColumn col) {
        _cleanup_free_ char *text = NULL;
        char buf[CTL_TIME_MAX];

        if (column_is_time(col))
                return table_add_cell(t, format_date(column_time(e, col), buf, column_unset(col)), NULL);
        switch (col) {
        case COLUMN_ID: return table_add_cell(t, e->row->id, NULL);
        case COLUMN_PRODUCT: return table_add_cell(t, e->row->product, NULL);
        case COLUMN_LICENSEE: return table_add_cell(t, e->row->licensee, NULL);
        case COLUMN_STATUS: return table_add_cell(t, e->row->status, status_color(e->row->status));
        case COLUMN_TYPE: return table_add_cell(t, e->info.type ?: "?", NULL);
        case COLUMN_REVISION: return table_add_cellf(t, "%" PRIu32, e->info.revision);
        case COLUMN_KEY: return table_add_cell(t, e->info.key && *e->info.key ? e->info.key : "-", NULL);
        case COLUMN_FEATURES:
        case COLUMN_USAGE:
                if ((col == COLUMN_USAGE ? usage_text : features_text)(&e->info, &text) < 0)
                        return -ENOMEM;
                return table_add_cell(t, text, NULL);
        default: return -EINVAL;
        }
}

static json_object *column_json(const ListEntry *e, ListColumn col) {
        json_object *a;

        if (column_is_time(col))
                return json_timestamp(column_time(e, col));
        switch (col) {
        case COLUMN_TYPE: return json_string_or_null(e->info.type);
        case COLUMN_REVISION: return json_object_new_int64(e->info.revision);
        case COLUMN_KEY: return e->info.key && *e->info.key ? json_object_new_string(e->info.key) : NULL;
        case COLUMN_FEATURES:
        case COLUMN_USAGE:
                a = json_object_new_array();
                for (size_t i = 0; a && i < e->info.features.n; i++) {
                        const Feature *x = &e->info.features.items[i];
                        json_object *o;

                        if (col == COLUMN_FEATURES) {
                                json_object_array_add(a, json_object_new_string(x->name));
                                continue;
                        }
                        if (!x->limit)
                                continue;
                        o = json_object_new_object();
                        json_object_object_add(o, "feature", json_object_new_string(x->name));
                        json_object_object_add(o, "in_use", json_object_new_int64(x->in_use));
                        json_object_object_add(o, "limit", json_object_new_int64(x->limit));
                        json_object_array_add(a, o);
                }
                return a;
        default: return NULL;
        }
}

/* The JSON name of a column: "last-validation" -> "last_validation". */
static void json_name(ListColumn col, char buf[static 32]) {
        snprintf(buf, 32, "%s", col == COLUMN_MAINTENANCE ? "maintenance_until" : column_table[col].name);
        for (char *p = buf; *p; p++)
                if (*p == '-')
                        *p = '_';
}

static int print_list_json(const ListEntry *entries, size_t n, const ListColumn *columns,
                           size_t n_columns) {
        json_object *a = json_object_new_array();

        for (size_t i = 0; a && i < n; i++) {
                json_object *o = license_row_to_json(entries[i].row);

                /* The usual fields always; the other columns asked for, too. */
                for (size_t j = 0; o && j < n_columns; j++) {
                        char name[32];

                        if (columns[j] <= COLUMN_EXPIRES)
                                continue;
                        json_name(columns[j], name);
                        json_object_object_add(o, name, column_json(&entries[i], columns[j]));
                }
                json_object_array_add(a, o);
        }
        return json_print(a);
}

int verb_list(_unused_ int argc, _unused_ char *argv[], void *userdata) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(table_freep) Table *t = NULL;
        _cleanup_free_ LicenseRow *rows = NULL;
        ListEntry *entries = NULL;
        Ctl *c = userdata;
        const ListColumn *columns = c->n_columns ? c->columns : usual_columns;
        size_t n_columns = c->n_columns ?: ELEMENTSOF(usual_columns), n = 0, kept = 0;
        int r;

        r = ctl_list_licenses(c, true, &reply, &rows, &n);
        if (r != 0)
                return r;

        entries = calloc(n ?: 1, sizeof(ListEntry));
        if (!entries)
                return ctl_oom();
        for (size_t i = 0; i < n; i++) {
                ListEntry *e = &entries[kept];

                e->row = &rows[i];
                if (needs_info(c, columns, n_columns)) {
                        r = ctl_get_license_info(c, rows[i].path, &e->info, &e->props);
                        if (r != 0)
                                goto finish;
                }
                if (c->grep && !entry_matches(e, c->grep)) {
                        license_info_done(&e->info);
                        e->props = sd_bus_message_unref(e->props);
                        *e = (ListEntry){};
                        continue;
                }
                kept++;
        }

        pager_open(c);
        if (c->json) {
                r = print_list_json(entries, kept, columns, n_columns);
                goto finish;
        }

        t = table_new(column_table[columns[0]].header, NULL);
        for (size_t j = 1; t && j < n_columns; j++)
                if (table_add_column(t, column_table[columns[j]].header) < 0)
                        t = table_free(t);
        if (!t) {
                r = ctl_oom();
                goto finish;
        }
        for (size_t i = 0; i < kept; i++)
                for (size_t j = 0; j < n_columns; j++)
                        if (add_cell(t, &entries[i], columns[j]) < 0) {
                                r = ctl_oom();
                                goto finish;
                        }

        if (kept > 0 && table_print(t, stdout, c->legend, ansi_highlight()) < 0) {
                r = ctl_oom();
                goto finish;
        }
        if (c->legend)
                printf("%s%zu license%s listed.\n", kept > 0 ? "\n" : "", kept, kept == 1 ? "" : "s");
        r = 0;
finish:
        list_entries_free(entries, n);
        return r;
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
