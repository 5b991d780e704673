/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* org.licensed.License1.License: one object per installed license, at
 * /org/licensed/License1/license/<escaped id>, found through a fallback
 * vtable so the objects follow the set of entries without bookkeeping. */

#include <stdlib.h>

#include "license-key.h"
#include "log.h"
#include "timeutil.h"
#include "context.h"
#include "seats.h"

static int license_object_find(sd_bus *bus, const char *path, const char *interface, void *userdata,
                               void **ret_found, sd_bus_error *error) {
        Context *c = userdata;
        _cleanup_free_ char *id = NULL;
        Entry *e;
        int r;

        r = sd_bus_path_decode(path, LICENSED_LICENSE_PATH_PREFIX, &id);
        if (r <= 0)
                return r;
        e = context_find_entry(c, id);
        if (!e)
                return 0;
        *ret_found = e;
        return 1;
}

static int license_node_enumerator(sd_bus *bus, const char *path, void *userdata, char ***ret_nodes,
                                   sd_bus_error *error) {
        Context *c = userdata;
        char **nodes = calloc(c->n_entries + 1, sizeof(char *));

        if (!nodes)
                return -ENOMEM;
        for (size_t i = 0; i < c->n_entries; i++) {
                nodes[i] = entry_object_path(c->entries[i]);
                if (!nodes[i]) {
                        for (size_t k = 0; k < i; k++)
                                free(nodes[k]);
                        free(nodes);
                        return -ENOMEM;
                }
        }
        *ret_nodes = nodes;
        return 1;
}

static int property_get(sd_bus *bus, const char *path, const char *interface, const char *property,
                        sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Entry *e = userdata;
        Context *c = e->context;
        const License *l = &e->license;
        LocalState st;
        Verdict v;
        int64_t now = context_now(c);

        if (streq(property, "Id"))
                return sd_bus_message_append(reply, "s", e->id);
        if (streq(property, "Revision"))
                return sd_bus_message_append(reply, "u", l->revision);
        if (streq(property, "Product"))
                return sd_bus_message_append(reply, "s", l->product);
        if (streq(property, "Licensee"))
                return sd_bus_message_append(reply, "s", l->licensee);
        if (streq(property, "Type"))
                return sd_bus_message_append(reply, "s", license_type_to_string(l->type));
        if (streq(property, "Status"))
                return sd_bus_message_append(reply, "s", reason_to_string(entry_status(c, e, now)));
        if (streq(property, "Key")) {
                char masked[LICENSE_KEY_STRING_SIZE] = "";
                if (l->key)
                        license_key_mask(l->key, masked);
                return sd_bus_message_append(reply, "s", masked);
        }
        if (streq(property, "Issued"))
                return sd_bus_message_append(reply, "t", usec_from_sec(l->issued));
        if (streq(property, "NotBefore"))
                return sd_bus_message_append(reply, "t", usec_from_sec(l->not_before));
        if (streq(property, "Expires"))
                return sd_bus_message_append(reply, "t", usec_from_sec(l->not_after));
        if (streq(property, "MaintenanceUntil"))
                return sd_bus_message_append(reply, "t", usec_from_sec(l->maintenance_until));
        if (streq(property, "Installed"))
                return sd_bus_message_append(reply, "t", usec_from_sec(e->state.installed));
        if (streq(property, "LastValidation"))
                return sd_bus_message_append(reply, "t", usec_from_sec(e->state.last_validation));
        if (streq(property, "ServerURL")) {
                const char *url = l->server_url ?: e->product->server_url;
                return sd_bus_message_append(reply, "s", url ?: "");
        }

        entry_local_state(c, e, &st);
        if (streq(property, "ValidationInterval"))
                return sd_bus_message_append(reply, "t", usec_from_sec(st.validation_interval));
        if (streq(property, "GraceEnd")) {
                evaluate(l, &st, NULL, now, TIME_UNSET, &v);
                return sd_bus_message_append(reply, "t", usec_from_sec(v.grace_end));
        }
        return -EINVAL;
}

static int property_get_features(sd_bus *bus, const char *path, const char *interface, const char *property,
                                 sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Entry *e = userdata;
        Context *c = e->context;
        int64_t now = context_now(c);
        LocalState st;
        int r;

        entry_local_state(c, e, &st);
        r = sd_bus_message_open_container(reply, 'a', "(sbsttuu)");
        if (r < 0)
                return r;
        for (size_t i = 0; i < e->license.n_features; i++) {
                const LicenseFeature *f = &e->license.features[i];
                Verdict v;

                evaluate(&e->license, &st, f->name, now, TIME_UNSET, &v);
                r = sd_bus_message_append(reply, "(sbsttuu)", f->name, v.licensed, reason_to_string(v.reason),
                                          usec_from_sec(v.expires), usec_from_sec(v.grace_end), f->limit,
                                          (uint32_t) seats_in_use(c, e->license.product, f->name));
                if (r < 0)
                        return r;
        }
        return sd_bus_message_close_container(reply);
}

static int property_get_properties(sd_bus *bus, const char *path, const char *interface, const char *property,
                                   sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Entry *e = userdata;
        int r;

        r = sd_bus_message_open_container(reply, 'a', "{ss}");
        if (r < 0)
                return r;
        for (size_t i = 0; i < e->license.n_properties; i++) {
                r = sd_bus_message_append(reply, "{ss}", e->license.properties[i].name,
                                          e->license.properties[i].value);
                if (r < 0)
                        return r;
        }
        return sd_bus_message_close_container(reply);
}

#define P(name, sig) SD_BUS_PROPERTY(name, sig, property_get, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE)

static const sd_bus_vtable license_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY("Id", "s", property_get, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        P("Revision", "u"),
        P("Product", "s"),
        P("Licensee", "s"),
        P("Type", "s"),
        P("Status", "s"),
        P("Key", "s"),
        P("Issued", "t"),
        P("NotBefore", "t"),
        P("Expires", "t"),
        P("MaintenanceUntil", "t"),
        P("Installed", "t"),
        SD_BUS_PROPERTY("Features", "a(sbsttuu)", property_get_features, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("Properties", "a{ss}", property_get_properties, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        P("LastValidation", "t"),
        P("GraceEnd", "t"),
        P("ValidationInterval", "t"),
        P("ServerURL", "s"),
        SD_BUS_VTABLE_END,
};

int license_dbus_register(Context *c) {
        int r;

        r = sd_bus_add_fallback_vtable(c->bus, NULL, LICENSED_LICENSE_PATH_PREFIX, LICENSED_LICENSE_INTERFACE, license_vtable,
                                       license_object_find, c);
        if (r < 0)
                return log_error_errno(r, "Failed to register license objects: %m");
        r = sd_bus_add_node_enumerator(c->bus, NULL, LICENSED_LICENSE_PATH_PREFIX, license_node_enumerator, c);
        if (r < 0)
                return log_error_errno(r, "Failed to register the license enumerator: %m");
        return 0;
}

int license_dbus_emit_added(Context *c, Entry *e) {
        _cleanup_free_ char *path = entry_object_path(e);
        int r;

        if (!path)
                return log_oom();
        r = sd_bus_emit_object_added(c->bus, path);
        if (r < 0)
                log_warning_errno(r, "Failed to emit InterfacesAdded: %m");
        r = sd_bus_emit_signal(c->bus, LICENSED_MANAGER_PATH, LICENSED_MANAGER_INTERFACE, "LicenseAdded", "so", e->id,
                               path);
        if (r < 0)
                log_warning_errno(r, "Failed to emit LicenseAdded: %m");
        return r;
}

int license_dbus_emit_removed(Context *c, const char *id, const char *path) {
        int r;

        /* The object is gone already, so InterfacesRemoved is built by hand:
         * sd_bus_emit_object_removed() would look it up. */
        r = sd_bus_emit_signal(c->bus, LICENSED_MANAGER_PATH, "org.freedesktop.DBus.ObjectManager", "InterfacesRemoved",
                               "oas", path, 1, LICENSED_LICENSE_INTERFACE);
        if (r < 0)
                log_warning_errno(r, "Failed to emit InterfacesRemoved: %m");
        r = sd_bus_emit_signal(c->bus, LICENSED_MANAGER_PATH, LICENSED_MANAGER_INTERFACE, "LicenseRemoved", "so", id, path);
        if (r < 0)
                log_warning_errno(r, "Failed to emit LicenseRemoved: %m");
        return r;
}

int license_dbus_emit_changed(Context *c, Entry *e) {
        _cleanup_free_ char *path = entry_object_path(e);
        int r;

        if (!path)
                return log_oom();
        r = sd_bus_emit_properties_changed(c->bus, path, LICENSED_LICENSE_INTERFACE, "Revision", "Status",
                                               "Features", "LastValidation", "GraceEnd", "Expires",
                                               "MaintenanceUntil", "Properties", NULL);
        if (r < 0)
                log_warning_errno(r, "Failed to emit PropertiesChanged for %s: %m", e->id);
        return r;
}
