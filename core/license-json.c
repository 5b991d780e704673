/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "license-json.h"
#include "timeutil.h"

static void add_string(json_object *o, const char *k, const char *v) {
        if (v)
                json_object_object_add(o, k, json_object_new_string(v));
}

static void add_time(json_object *o, const char *k, int64_t t) {
        char buf[RFC3339_MAX];

        if (t != TIME_UNSET)
                add_string(o, k, time_format_rfc3339(t, buf));
}

json_object *license_to_json(const License *l) {
        json_object *o = json_object_new_object(), *features, *props;

        if (!o)
                return NULL;
        add_string(o, "id", l->id);
        json_object_object_add(o, "revision", json_object_new_int64(l->revision));
        add_string(o, "product", l->product);
        add_string(o, "licensee", l->licensee);
        add_string(o, "type", license_type_to_string(l->type));
        add_time(o, "issued", l->issued);
        add_time(o, "not_before", l->not_before);
        add_time(o, "not_after", l->not_after);
        add_time(o, "maintenance_until", l->maintenance_until);
        add_string(o, "key", l->key);

        features = json_object_new_array();
        for (size_t i = 0; i < l->n_features; i++) {
                json_object *f = json_object_new_object();
                add_string(f, "name", l->features[i].name);
                add_time(f, "expires", l->features[i].expires);
                if (l->features[i].limit > 0)
                        json_object_object_add(f, "limit", json_object_new_int64(l->features[i].limit));
                json_object_array_add(features, f);
        }
        json_object_object_add(o, "features", features);

        props = json_object_new_object();
        for (size_t i = 0; i < l->n_properties; i++)
                add_string(props, l->properties[i].name, l->properties[i].value);
        json_object_object_add(o, "properties", props);

        add_string(o, "machine_id", l->machine_id);
        add_string(o, "device_key", l->device_key);
        add_string(o, "nonce", l->nonce);
        if (l->validation_interval >= 0)
                json_object_object_add(o, "validation_interval", json_object_new_int64(l->validation_interval));
        if (l->grace_period >= 0)
                json_object_object_add(o, "grace_period", json_object_new_int64(l->grace_period));
        add_string(o, "server_url", l->server_url);
        return o;
}
