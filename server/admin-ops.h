/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The administration of licensed-server's database as JSON in, JSON out:
 * the admin API of licensed-server (server-admin.c) and licensed-vendor's
 * local --db mode (vendor-admin.c) call the same functions, so a verb says
 * the same over HTTP and on the file. The JSON shapes are docs/protocol.md's
 * "Admin API" (and docs/openapi.json).
 *
 * Every operation takes the license key of its path (typed or canonical;
 * NULL where the route has none) and `in`: the query parameters (strings)
 * for a GET, the body for a POST. It returns 0 and *ret, or negative errno
 * with a sentence in err: -EINVAL bad input, -ENOENT unknown key or machine,
 * -EEXIST the key exists, -ESTALE changed meanwhile (or not the revision the
 * caller named), -EKEYREJECTED a bad proof signature, -EALREADY a proof used
 * before; anything else is the server's failure. */

#include <json-c/json.h>

#include "storage.h"

typedef int (*AdminOp)(Storage *s, const char *key, json_object *in, json_object **ret, CoreError *err);

/* GET /v1/admin/entitlements: in = {product, state (active|revoked),
 * licensee (a substring), cursor, limit (1-1000, default 100)};
 * ret = {"entitlements": [...], "next_cursor": "..." or null}. */
int admin_entitlement_list(Storage *s, const char *key, json_object *in, json_object **ret, CoreError *err);
/* POST /v1/admin/entitlements: the options of 'entitlement create' as
 * members (product, licensee, seats, license_key, type, not_before, ...,
 * features: [spec...], properties: {name: value}); ret = the entitlement. */
int admin_entitlement_create(Storage *s, const char *key, json_object *in, json_object **ret, CoreError *err);
/* GET /v1/admin/entitlements/{key} */
int admin_entitlement_show(Storage *s, const char *key, json_object *in, json_object **ret, CoreError *err);
/* POST .../{key}/upgrade: in = {revision (optional: the one the change is
 * based on), seats, licensee, not_after, maintenance_until, remove_features:
 * [name...], features: [spec...] (added, or replacing the same name),
 * properties: {...}}; ret = the entitlement at its new revision. */
int admin_entitlement_upgrade(Storage *s, const char *key, json_object *in, json_object **ret, CoreError *err);
/* POST .../{key}/revoke; ret = the entitlement. */
int admin_entitlement_revoke(Storage *s, const char *key, json_object *in, json_object **ret, CoreError *err);
/* GET .../{key}/activations, and GET /v1/admin/activations (key NULL: all
 * keys); ret = {"activations": [...]}. */
int admin_activation_list(Storage *s, const char *key, json_object *in, json_object **ret, CoreError *err);
/* POST .../{key}/release: in = {"machine_id": ...} or {"proof": an armored
 * deactivation proof of a machine holding the key}; ret = {"license_key",
 * "machine_id", "released": seats freed}. */
int admin_release(Storage *s, const char *key, json_object *in, json_object **ret, CoreError *err);
/* POST /v1/admin/trials/reset: in = {"product", "machine_id" and/or
 * "hardware_id"}: forgets the machine's trial of the product so that it
 * can start one again (storage_trial_reset()); ret = {"product",
 * "machine_id", "hardware_id" (null when not given), "trials": trials
 * forgotten, "released": seats of trial licenses freed}. */
int admin_trial_reset(Storage *s, const char *key, json_object *in, json_object **ret, CoreError *err);
/* GET /v1/admin/products; ret = {"products": [{product, entitlements, active}]}. */
int admin_product_list(Storage *s, const char *key, json_object *in, json_object **ret, CoreError *err);

/* The JSON of a record, as every answer above writes it. */
/* o[name] = t in RFC 3339, or null when unset. */
void admin_json_add_time(json_object *o, const char *name, int64_t t);
json_object *entitlement_to_json(const Entitlement *e);
json_object *activation_to_json(const Activation *a);

#define ADMIN_LIST_LIMIT_DEFAULT 100
#define ADMIN_LIST_LIMIT_MAX 1000
#define ADMIN_SEATS_MAX 1000000
/* The longest trial an offer may give, in days: ten years. */
#define ADMIN_TRIAL_DAYS_MAX 3650
