/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The PostgreSQL schema and its migrations (pg_migrate()): a
 * schema_version table and numbered steps, run in one transaction under
 * an advisory lock, so that instances starting at once migrate once. */

#include <inttypes.h>

#include "storage-postgres.h"

/* Migration N brings the schema from version N to N + 1. Append only. The
 * same tables as SQLite's; times are seconds since the epoch, 0 unset. */
static const char *const migrations[] = {
        "CREATE TABLE entitlement ("
        "  key TEXT PRIMARY KEY,"
        "  product TEXT NOT NULL,"
        "  licensee TEXT NOT NULL,"
        "  type TEXT NOT NULL,"
        "  not_before BIGINT NOT NULL DEFAULT 0,"
        "  not_after BIGINT NOT NULL DEFAULT 0,"
        "  maintenance_until BIGINT NOT NULL DEFAULT 0,"
        "  features TEXT NOT NULL DEFAULT '[]',"
        "  properties TEXT NOT NULL DEFAULT '{}',"
        "  validation_interval BIGINT NOT NULL DEFAULT -1,"
        "  grace_period BIGINT NOT NULL DEFAULT -1,"
        "  server_url TEXT,"
        "  seats BIGINT NOT NULL CHECK (seats >= 1),"
        "  revoked BOOLEAN NOT NULL DEFAULT false,"
        "  revision BIGINT NOT NULL DEFAULT 1,"
        "  created BIGINT NOT NULL,"
        "  updated BIGINT NOT NULL"
        ");"
        "CREATE TABLE activation ("
        "  id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
        "  key TEXT NOT NULL REFERENCES entitlement(key),"
        "  license_id TEXT NOT NULL UNIQUE,"
        "  machine_id TEXT NOT NULL,"
        "  device_key TEXT NOT NULL,"
        "  hostname TEXT,"
        "  nonce TEXT NOT NULL,"
        "  revision BIGINT NOT NULL,"
        "  activated BIGINT NOT NULL,"
        "  last_seen BIGINT NOT NULL,"
        "  released BIGINT NOT NULL DEFAULT 0"
        ");"
        "CREATE INDEX activation_by_key ON activation(key, released);"
        "CREATE UNIQUE INDEX activation_by_machine ON activation(key, machine_id, device_key);"
        /* Nonces of deactivation proofs already acted on: a proof works once. */
        "CREATE TABLE used_nonce (nonce TEXT PRIMARY KEY, used BIGINT NOT NULL);",
        /* 1 -> 2: admin API tokens, by the SHA-256 of the token (never the
         * token); the admin list's order and cursor. */
        "CREATE TABLE admin_token ("
        "  id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
        "  name TEXT NOT NULL UNIQUE,"
        "  scope TEXT NOT NULL CHECK (scope IN ('read', 'write')),"
        "  hash TEXT NOT NULL UNIQUE,"
        "  created BIGINT NOT NULL,"
        "  expires BIGINT NOT NULL DEFAULT 0,"
        "  last_used BIGINT NOT NULL DEFAULT 0,"
        "  revoked BIGINT NOT NULL DEFAULT 0"
        ");"
        "CREATE INDEX entitlement_by_created ON entitlement(created, key COLLATE \"C\");",
        /* 2 -> 3: the count of active activations kept in the entitlement,
         * as SQLite's migration 3 does, so that reading one is not a
         * count(*) over its activations (the most costly statement of an
         * activation and of a validation before). A trigger keeps it in
         * every transaction that changes an activation's seat, whoever
         * writes. The row it updates is the entitlement's: an activation
         * holds its lock already, a release takes it first (the order
         * entitlement, then activation, everywhere: no deadlock). */
        "ALTER TABLE entitlement ADD COLUMN active BIGINT NOT NULL DEFAULT 0;"
        "UPDATE entitlement e SET active = "
        "  (SELECT count(*) FROM activation a WHERE a.key = e.key AND a.released = 0);"
        "CREATE FUNCTION activation_seat() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
        "  IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.released = 0 THEN"
        "    UPDATE entitlement SET active = active - 1 WHERE key = OLD.key;"
        "  END IF;"
        "  IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.released = 0 THEN"
        "    UPDATE entitlement SET active = active + 1 WHERE key = NEW.key;"
        "  END IF;"
        "  RETURN NULL;"
        "END $$;"
        "CREATE TRIGGER activation_seat AFTER INSERT OR DELETE ON activation"
        "  FOR EACH ROW EXECUTE FUNCTION activation_seat();"
        "CREATE TRIGGER activation_seat_changed AFTER UPDATE OF released, key ON activation FOR EACH ROW"
        "  WHEN ((OLD.released = 0) <> (NEW.released = 0) OR OLD.key <> NEW.key)"
        "  EXECUTE FUNCTION activation_seat();",
        /* 3 -> 4: the releases customers made themselves in the portal, for
         * the vendor's limit of so many per 30 days (docs/portal.md), as
         * SQLite's 3 -> 4. */
        "CREATE TABLE portal_release ("
        "  id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
        "  key TEXT NOT NULL REFERENCES entitlement(key),"
        "  machine_id TEXT NOT NULL,"
        "  released BIGINT NOT NULL"
        ");"
        "CREATE INDEX portal_release_by_key ON portal_release(key, released);",
        /* 4 -> 5: trials and the deactivation policy, as SQLite's 4 -> 5.
         * An entitlement with trial_days > 0 is its product's trial offer;
         * trial holds one row per product and machine that ever started a
         * trial, so that a second one is refused. */
        "ALTER TABLE entitlement ADD COLUMN trial_days BIGINT NOT NULL DEFAULT 0;"
        "ALTER TABLE entitlement ADD COLUMN deactivation_requires_maintenance BOOLEAN NOT NULL DEFAULT false;"
        "CREATE TABLE trial ("
        "  product TEXT NOT NULL,"
        "  machine_id TEXT NOT NULL,"
        "  license_id TEXT NOT NULL,"
        "  started BIGINT NOT NULL,"
        "  UNIQUE (product, machine_id)"
        ");",
        /* 5 -> 6: the hardware id of a trial, as SQLite's 5 -> 6: a
         * reinstall makes a new machine id, not a new trial. NULL for
         * machines without one; NULLs are distinct in a unique index. */
        "ALTER TABLE trial ADD COLUMN hardware_id TEXT;"
        "CREATE UNIQUE INDEX trial_by_hardware ON trial(product, hardware_id);",
};

#define SCHEMA_VERSION ((int64_t) ELEMENTSOF(migrations))

int pg_migrate(PgStorage *s, CoreError *err) {
        _cleanup_(tx_abort) Tx t = {};
        _cleanup_result_ PGresult *res = NULL;
        int64_t version = 0;
        int r;

        r = tx_begin(s, &t, err);
        if (r < 0)
                return r;
        /* Two instances starting at once on an empty database: the second
         * waits here until the first committed the schema, then reads its
         * version. */
        r = EXEC(&t, err, "SELECT pg_advisory_xact_lock($1)", "i", MIGRATION_LOCK);
        if (r >= 0)
                r = exec_script(t.c, "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)",
                                err);
        if (r >= 0)
                r = query(&t, &res, err, "SELECT coalesce(max(version), 0) FROM schema_version", "");
        if (r >= 0)
                version = column_int(res, 0, 0);
        if (r >= 0 && version > SCHEMA_VERSION)
                r = core_error_set(err, EPROTONOSUPPORT,
                                   "the database has schema version %" PRId64
                                   ", this version knows up to %" PRId64 ": update licensed",
                                   version, SCHEMA_VERSION);
        for (int64_t v = version; r >= 0 && v < SCHEMA_VERSION; v++) {
                r = exec_script(t.c, migrations[v], err);
                if (r >= 0)
                        r = EXEC(&t, err, "INSERT INTO schema_version (version) VALUES ($1)", "i", v + 1);
        }
        return tx_end(&t, r, true, err);
}
