/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The SQLite schema and its migrations (sqlite_migrate()): a
 * schema_version table and numbered steps, each run in the transaction
 * that records it, so a database is always at one version. */

#include <inttypes.h>

#include "storage-sqlite.h"

/* Migration N brings the schema from version N to N + 1. Append only. */
static const char *const migrations[] = {
        "CREATE TABLE entitlement ("
        "  key TEXT PRIMARY KEY,"
        "  product TEXT NOT NULL,"
        "  licensee TEXT NOT NULL,"
        "  type TEXT NOT NULL,"
        "  not_before INTEGER NOT NULL DEFAULT 0,"
        "  not_after INTEGER NOT NULL DEFAULT 0,"
        "  maintenance_until INTEGER NOT NULL DEFAULT 0,"
        "  features TEXT NOT NULL DEFAULT '[]',"
        "  properties TEXT NOT NULL DEFAULT '{}',"
        "  validation_interval INTEGER NOT NULL DEFAULT -1,"
        "  grace_period INTEGER NOT NULL DEFAULT -1,"
        "  server_url TEXT,"
        "  seats INTEGER NOT NULL CHECK (seats >= 1),"
        "  revoked INTEGER NOT NULL DEFAULT 0,"
        "  revision INTEGER NOT NULL DEFAULT 1,"
        "  created INTEGER NOT NULL,"
        "  updated INTEGER NOT NULL"
        ") STRICT;"
        "CREATE TABLE activation ("
        "  id INTEGER PRIMARY KEY,"
        "  key TEXT NOT NULL REFERENCES entitlement(key),"
        "  license_id TEXT NOT NULL UNIQUE,"
        "  machine_id TEXT NOT NULL,"
        "  device_key TEXT NOT NULL,"
        "  hostname TEXT,"
        "  nonce TEXT NOT NULL,"
        "  revision INTEGER NOT NULL,"
        "  activated INTEGER NOT NULL,"
        "  last_seen INTEGER NOT NULL,"
        "  released INTEGER NOT NULL DEFAULT 0"
        ") STRICT;"
        "CREATE INDEX activation_by_key ON activation(key, released);"
        "CREATE UNIQUE INDEX activation_by_machine ON activation(key, machine_id, device_key);"
        /* Nonces of deactivation proofs already acted on: a proof works once. */
        "CREATE TABLE used_nonce (nonce TEXT PRIMARY KEY, used INTEGER NOT NULL) STRICT;",
        /* 1 -> 2: admin API tokens, by the SHA-256 of the token (never the
         * token); the admin list's order and cursor. */
        "CREATE TABLE admin_token ("
        "  id INTEGER PRIMARY KEY,"
        "  name TEXT NOT NULL UNIQUE,"
        "  scope TEXT NOT NULL CHECK (scope IN ('read', 'write')),"
        "  hash TEXT NOT NULL UNIQUE,"
        "  created INTEGER NOT NULL,"
        "  expires INTEGER NOT NULL DEFAULT 0,"
        "  last_used INTEGER NOT NULL DEFAULT 0,"
        "  revoked INTEGER NOT NULL DEFAULT 0"
        ") STRICT;"
        "CREATE INDEX entitlement_by_created ON entitlement(created, key);",
        /* 2 -> 3: the count of active activations kept in the entitlement, so
         * that reading one is not a count(*) over its activations. Triggers
         * keep it in every transaction that changes an activation's seat,
         * whoever writes (an older licensed-vendor included). */
        "ALTER TABLE entitlement ADD COLUMN active INTEGER NOT NULL DEFAULT 0;"
        "UPDATE entitlement SET active = "
        "  (SELECT count(*) FROM activation a WHERE a.key = entitlement.key AND a.released = 0);"
        "CREATE TRIGGER activation_takes_seat AFTER INSERT ON activation WHEN NEW.released = 0 BEGIN"
        "  UPDATE entitlement SET active = active + 1 WHERE key = NEW.key;"
        "END;"
        "CREATE TRIGGER activation_seat_changed AFTER UPDATE OF released, key ON activation"
        "  WHEN (OLD.released = 0) != (NEW.released = 0) OR OLD.key != NEW.key BEGIN"
        "  UPDATE entitlement SET active = active - (OLD.released = 0) WHERE key = OLD.key;"
        "  UPDATE entitlement SET active = active + (NEW.released = 0) WHERE key = NEW.key;"
        "END;"
        "CREATE TRIGGER activation_frees_seat AFTER DELETE ON activation WHEN OLD.released = 0 BEGIN"
        "  UPDATE entitlement SET active = active - 1 WHERE key = OLD.key;"
        "END;",
        /* 3 -> 4: the releases customers made themselves in the portal, for
         * the vendor's limit of so many per 30 days (docs/portal.md). */
        "CREATE TABLE portal_release ("
        "  id INTEGER PRIMARY KEY,"
        "  key TEXT NOT NULL REFERENCES entitlement(key),"
        "  machine_id TEXT NOT NULL,"
        "  released INTEGER NOT NULL"
        ") STRICT;"
        "CREATE INDEX portal_release_by_key ON portal_release(key, released);",
        /* 4 -> 5: trials and the deactivation policy. An entitlement with
         * trial_days > 0 is its product's trial offer; trial holds one row
         * per product and machine that ever started a trial, so that a
         * second one is refused (docs/protocol.md, "Trials"). */
        "ALTER TABLE entitlement ADD COLUMN trial_days INTEGER NOT NULL DEFAULT 0;"
        "ALTER TABLE entitlement ADD COLUMN deactivation_requires_maintenance INTEGER NOT NULL DEFAULT 0;"
        "CREATE TABLE trial ("
        "  product TEXT NOT NULL,"
        "  machine_id TEXT NOT NULL,"
        "  license_id TEXT NOT NULL,"
        "  started INTEGER NOT NULL,"
        "  UNIQUE (product, machine_id)"
        ") STRICT;",
        /* 5 -> 6: the hardware id of a trial (derived from the firmware's
         * system UUID), so that a reinstall, which makes a new machine id,
         * does not make a new trial. NULL for machines without one (and the
         * trials before); NULLs are distinct in a unique index. */
        "ALTER TABLE trial ADD COLUMN hardware_id TEXT;"
        "CREATE UNIQUE INDEX trial_by_hardware ON trial(product, hardware_id);",
};

#define SCHEMA_VERSION ((int64_t) ELEMENTSOF(migrations))

int sqlite_migrate(SqlConn *c, void *data, CoreError *err) {
        const char *path = data;
        _cleanup_sql_stmt_ sqlite3_stmt *st = NULL;
        int64_t version = 0;
        int r;

        r = sql_conn_script(c, "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL) STRICT",
                            err);
        if (r >= 0)
                r = sql_conn_stmt(c, SQL_SCHEMA_VERSION, &st, err, "");
        if (r >= 0)
                r = sql_conn_step(c, st, err);
        if (r > 0)
                version = sqlite3_column_int64(st, 0);
        sql_stmt_resetp(&st);
        if (r >= 0 && version > SCHEMA_VERSION)
                r = core_error_set(err, EPROTONOSUPPORT,
                                   "database %s has schema version %" PRId64
                                   ", this version knows up to %" PRId64 ": update licensed",
                                   path, version, SCHEMA_VERSION);
        for (int64_t v = version; r >= 0 && v < SCHEMA_VERSION; v++) {
                r = sql_conn_script(c, migrations[v], err);
                if (r >= 0)
                        r = EXEC(c, SQL_SCHEMA_VERSION_ADD, err, "i", v + 1);
        }
        return r < 0 ? r : 0;
}
