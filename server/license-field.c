/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* One license field from its text (license-field.h): moved out of
 * vendor-issue.c so that licensed-server's admin API reads entitlements
 * with the very checks of licensed-vendor. */

#include <stdlib.h>

#include "license-field.h"
#include "license-key.h"
#include "macro.h"
#include "timeutil.h"

static const char *const field_names[_LICENSE_FIELD_MAX] = {
        [LICENSE_FIELD_ID] = "id",
        [LICENSE_FIELD_REVISION] = "revision",
        [LICENSE_FIELD_PRODUCT] = "product",
        [LICENSE_FIELD_LICENSEE] = "licensee",
        [LICENSE_FIELD_TYPE] = "type",
        [LICENSE_FIELD_ISSUED] = "issued",
        [LICENSE_FIELD_NOT_BEFORE] = "not-before",
        [LICENSE_FIELD_NOT_AFTER] = "not-after",
        [LICENSE_FIELD_MAINTENANCE_UNTIL] = "maintenance-until",
        [LICENSE_FIELD_FEATURE] = "feature",
        [LICENSE_FIELD_PROPERTY] = "property",
        [LICENSE_FIELD_LICENSE_KEY] = "license-key",
        [LICENSE_FIELD_MACHINE_ID] = "machine-id",
        [LICENSE_FIELD_DEVICE_KEY] = "device-key",
        [LICENSE_FIELD_NONCE] = "nonce",
        [LICENSE_FIELD_VALIDATION_INTERVAL] = "validation-interval",
        [LICENSE_FIELD_GRACE_PERIOD] = "grace-period",
        [LICENSE_FIELD_SERVER_URL] = "server-url",
};

/* a == b with '_' and '-' the same. */
static bool name_eq(const char *a, const char *b) {
        for (; *a && *b; a++, b++)
                if (*a != *b && !(strchr("-_", *a) && strchr("-_", *b)))
                        return false;
        return *a == *b;
}

LicenseField license_field_from_name(const char *name) {
        for (int i = 0; name && i < _LICENSE_FIELD_MAX; i++)
                if (name_eq(field_names[i], name))
                        return (LicenseField) i;
        return (LicenseField) -EINVAL;
}

static int replace_string(char **dst, const char *v) {
        char *n = strdup(v);
        if (!n)
                return -ENOMEM;
        free(*dst);
        *dst = n;
        return 0;
}

int license_field_apply(License *l, LicenseField which, const char *v, CoreError *err) {
        char key[LICENSE_KEY_STRING_SIZE];
        int64_t *t = NULL, *d = NULL;
        int r;

        switch (which) {
        case LICENSE_FIELD_ID: return replace_string(&l->id, v);
        case LICENSE_FIELD_PRODUCT: return replace_string(&l->product, v);
        case LICENSE_FIELD_LICENSEE: return replace_string(&l->licensee, v);
        case LICENSE_FIELD_MACHINE_ID: return replace_string(&l->machine_id, v);
        case LICENSE_FIELD_DEVICE_KEY: return replace_string(&l->device_key, v);
        case LICENSE_FIELD_NONCE: return replace_string(&l->nonce, v);
        case LICENSE_FIELD_SERVER_URL: return replace_string(&l->server_url, v);
        case LICENSE_FIELD_LICENSE_KEY: {
                /* Only the masked key goes into the license: it is shown and
                 * exported freely, and the full key could activate elsewhere. */
                char masked[LICENSE_KEY_STRING_SIZE];
                r = license_key_normalize(v, key, err);
                if (r < 0)
                        return r;
                license_key_mask(key, masked);
                return replace_string(&l->key, masked);
        }
        case LICENSE_FIELD_REVISION: {
                char *end;
                unsigned long n;
                errno = 0;
                n = strtoul(v, &end, 10);
                if (errno || *end || !*v || n > UINT32_MAX)
                        return core_error_set(err, EINVAL, "revision '%s' is not a number", v);
                l->revision = (uint32_t) n;
                return 0;
        }
        case LICENSE_FIELD_TYPE:
                l->type = license_type_from_string(v);
                if (l->type < 0)
                        return core_error_set(err, EINVAL, "type '%s' is not perpetual, subscription, trial or floating", v);
                return 0;
        case LICENSE_FIELD_ISSUED: t = &l->issued; break;
        case LICENSE_FIELD_NOT_BEFORE: t = &l->not_before; break;
        case LICENSE_FIELD_NOT_AFTER: t = &l->not_after; break;
        case LICENSE_FIELD_MAINTENANCE_UNTIL: t = &l->maintenance_until; break;
        case LICENSE_FIELD_VALIDATION_INTERVAL: d = &l->validation_interval; break;
        case LICENSE_FIELD_GRACE_PERIOD: d = &l->grace_period; break;
        case LICENSE_FIELD_FEATURE: return license_add_feature_spec(l, v, err);
        case LICENSE_FIELD_PROPERTY: {
                _cleanup_free_ char *name = NULL;
                const char *eq = strchr(v, '=');
                if (!eq)
                        return core_error_set(err, EINVAL, "property '%s' is not NAME=VALUE", v);
                name = strndup(v, (size_t) (eq - v));
                if (!name)
                        return -ENOMEM;
                return license_set_property(l, name, eq + 1, err);
        }
        default:
                return -EINVAL;
        }
        if (t)
                return time_parse_rfc3339(v, t, err);
        return duration_parse(v, d, err);
}


int license_field_apply_named(License *l, const char *name, const char *v, CoreError *err) {
        LicenseField f = license_field_from_name(name);

        if ((int) f < 0)
                return core_error_set(err, EINVAL, "'%s' is not a license field", name);
        return license_field_apply(l, f, v, err);
}
