/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* storage.h over SQLite (storage_backend_sqlite): one file, WAL journal,
 * a busy timeout so that several processes (server instances,
 * licensed-vendor) can share it, and a schema_version table with numbered
 * migrations. Within a process, reads run on a pool of connections beside
 * each other and writes are group-committed on one writer connection
 * (sqlite-pool.h); every public function is one transaction. Features and
 * properties are JSON in their columns (storage_features_to_json()).
 *
 * This file: opening, the statements every connection prepares, and the
 * seat logic (entitlements read, activate, validate, release). The
 * migrations are in storage-sqlite-migrate.c, the trials in
 * storage-sqlite-trial.c, the portal's releases in storage-sqlite-portal.c,
 * the vendor's and admin API's operations in storage-sqlite-admin.c. */

#include <assert.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sys/stat.h>

#include "storage-sqlite.h"
#include "strutil.h"
#include "timeutil.h"

/* Statements ------------------------------------------------------------- */

#define ENTITLEMENT_COLUMNS                                                                                 \
        "e.key, e.product, e.licensee, e.type, e.not_before, e.not_after, e.maintenance_until, "            \
        "e.features, e.properties, e.validation_interval, e.grace_period, e.server_url, e.seats, "          \
        "e.revoked, e.revision, e.created, e.updated, e.active, e.trial_days, "                              \
        "e.deactivation_requires_maintenance"

#define ACTIVATION_COLUMNS                                                                                  \
        "id, key, license_id, machine_id, device_key, hostname, nonce, revision, activated, last_seen, "    \
        "released"

#define TOKEN_COLUMNS "id, name, scope, hash, created, expires, last_used, revoked"

static const char *const statements[_SQL_MAX] = {
        [SQL_SCHEMA_VERSION] = "SELECT max(version) FROM schema_version",
        [SQL_SCHEMA_VERSION_ADD] = "INSERT INTO schema_version (version) VALUES (?)",
        [SQL_ENTITLEMENT_GET] = "SELECT " ENTITLEMENT_COLUMNS " FROM entitlement e WHERE e.key = ?",
        [SQL_ENTITLEMENT_LIST] = "SELECT " ENTITLEMENT_COLUMNS " FROM entitlement e ORDER BY e.created, e.key",
        [SQL_ENTITLEMENT_EXISTS] = "SELECT 1 FROM entitlement WHERE key = ?",
        [SQL_ENTITLEMENT_CREATE] =
                "INSERT INTO entitlement (key, product, licensee, type, not_before, not_after, "
                "maintenance_until, features, properties, validation_interval, grace_period, server_url, "
                "seats, revision, created, updated, trial_days, deactivation_requires_maintenance) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?, ?)",
        [SQL_ENTITLEMENT_UPGRADE] =
                "UPDATE entitlement SET licensee = ?, type = ?, not_before = ?, not_after = ?, "
                "maintenance_until = ?, features = ?, properties = ?, validation_interval = ?, "
                "grace_period = ?, server_url = ?, seats = ?, revision = revision + 1, updated = ?, "
                "trial_days = ?, deactivation_requires_maintenance = ? WHERE key = ? AND revision = ?",
        [SQL_ENTITLEMENT_REVOKE] = "UPDATE entitlement SET revoked = 1, updated = ? WHERE key = ?",
        [SQL_ACTIVATION_GET] = "SELECT " ACTIVATION_COLUMNS " FROM activation WHERE license_id = ?",
        [SQL_ACTIVATION_LIST] = "SELECT " ACTIVATION_COLUMNS " FROM activation WHERE ?1 IS NULL OR key = ?1 "
                                "ORDER BY activated, id",
        /* The same machine is the same machine id and device key. */
        [SQL_ACTIVATION_OF_MACHINE] =
                "SELECT id, released FROM activation WHERE key = ? AND machine_id = ? AND device_key = ?",
        [SQL_ACTIVATION_RENEW] =
                "UPDATE activation SET hostname = ?, nonce = ?, revision = ?, last_seen = ?, released = 0, "
                "activated = CASE WHEN released = 0 THEN activated ELSE ? END WHERE id = ?",
        [SQL_ACTIVATION_INSERT] =
                "INSERT INTO activation (key, license_id, machine_id, device_key, hostname, nonce, revision, "
                "activated, last_seen) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [SQL_ACTIVATION_SEEN] = "UPDATE activation SET revision = ?, last_seen = ? WHERE id = ?",
        [SQL_NONCE_USE] = "INSERT INTO used_nonce (nonce, used) VALUES (?, ?)",
        [SQL_ACTIVATION_RELEASE] = "UPDATE activation SET released = ? WHERE id = ? AND released = 0",
        [SQL_RELEASE_MACHINE] =
                "UPDATE activation SET released = ? WHERE key = ? AND machine_id = ? AND released = 0",
        /* The admin API. instr(), not LIKE: a licensee may contain % or _,
         * and LIKE folds ASCII case only. The limit -1 is "no limit". */
        [SQL_ENTITLEMENT_QUERY] =
                "SELECT " ENTITLEMENT_COLUMNS " FROM entitlement e "
                "WHERE (?1 IS NULL OR e.product = ?1) "
                "AND (?2 = 0 OR (?2 = 1 AND e.revoked = 0) OR (?2 = 2 AND e.revoked <> 0)) "
                "AND (?3 IS NULL OR instr(e.licensee, ?3) > 0) "
                "AND (?5 IS NULL OR e.created > ?4 OR (e.created = ?4 AND e.key > ?5)) "
                "ORDER BY e.created, e.key LIMIT ?6",
        [SQL_PRODUCT_LIST] = "SELECT product, count(*), sum(active) FROM entitlement GROUP BY product ORDER BY product",
        [SQL_TOKEN_CREATE] = "INSERT INTO admin_token (name, scope, hash, created, expires) VALUES (?, ?, ?, ?, ?)",
        [SQL_TOKEN_LIST] = "SELECT " TOKEN_COLUMNS " FROM admin_token ORDER BY created, id",
        [SQL_TOKEN_REVOKE] = "UPDATE admin_token SET revoked = ? WHERE name = ? AND revoked = 0",
        [SQL_TOKEN_USE] = "UPDATE admin_token SET last_used = ? WHERE hash = ?",
        [SQL_TOKEN_GET] = "SELECT " TOKEN_COLUMNS " FROM admin_token WHERE hash = ?",
        [SQL_PORTAL_RELEASES_SINCE] = "SELECT count(*), min(released) FROM portal_release WHERE key = ? AND released >= ?",
        [SQL_PORTAL_RELEASE_RECORD] = "INSERT INTO portal_release (key, machine_id, released) VALUES (?, ?, ?)",
        /* The hardware id = NULL of a machine without one matches no row. */
        [SQL_TRIAL_GET] = "SELECT started FROM trial WHERE product = ? AND (machine_id = ? OR hardware_id = ?) "
                          "ORDER BY started LIMIT 1",
        [SQL_TRIAL_INSERT] = "INSERT INTO trial (product, machine_id, license_id, started, hardware_id) "
                             "VALUES (?, ?, ?, ?, ?)",
        [SQL_TRIAL_OFFER] = "SELECT key FROM entitlement WHERE product = ? AND trial_days > 0 AND revoked = 0 "
                            "ORDER BY created DESC, key DESC LIMIT 1",
        /* The vendor's trial reset: the seats of the machine's trial
         * licenses (the triggers of migration 3 count them), then the
         * trials. A NULL id matches no row, as in SQL_TRIAL_GET. */
        [SQL_TRIAL_RESET_RELEASE] =
                "UPDATE activation SET released = ?1 WHERE released = 0 AND license_id IN "
                "(SELECT license_id FROM trial WHERE product = ?2 AND (machine_id = ?3 OR hardware_id = ?4))",
        [SQL_TRIAL_RESET] = "DELETE FROM trial WHERE product = ?1 AND (machine_id = ?2 OR hardware_id = ?3)",
};

/* Opening ------------------------------------------------------------------- */

static int sqlite_open(const char *path, Storage **ret, CoreError *err) {
        _cleanup_(storage_closep) Storage *storage = NULL;
        SqliteStorage *s;
        int fd, r;

        assert(path);
        assert(ret);

        /* Create it 0600 ourselves: it holds every license key in clear.
         * SQLite gives its -wal and -shm files the database's mode. The
         * descriptor is closed before SQLite opens the file: closing any
         * descriptor of a file drops all of the process's POSIX locks on
         * it, SQLite's included. */
        if (!streq(path, STORAGE_IN_MEMORY)) {
                fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
                if (fd < 0)
                        return core_error_set(err, errno, "cannot open database %s: %s", path,
                                              strerror(errno));
                close(fd);
        }

        s = calloc(1, sizeof(*s));
        if (!s)
                return -ENOMEM;
        s->storage.backend = &storage_backend_sqlite;
        storage = &s->storage;
        r = sql_pool_open(path, statements, _SQL_MAX, &s->pool, err);
        if (r >= 0)
                r = sql_pool_write(s->pool, sqlite_migrate, (void *) path, err);
        if (r < 0) {
                if (!strstr(err ? err->message : "", path))
                        core_error_prefix(err, "%s: ", path);
                return r;
        }
        *ret = TAKE_PTR(storage);
        return 0;
}

static void sqlite_close(Storage *storage) {
        SqliteStorage *s = sqlite_storage(storage);

        sql_pool_free(s->pool);
        free(s);
}

static int ping_read(SqlConn *c, void *data, CoreError *err) {
        _cleanup_sql_stmt_ sqlite3_stmt *st = NULL;
        int r;

        r = sql_conn_stmt(c, SQL_SCHEMA_VERSION, &st, err, "");
        if (r >= 0)
                r = sql_conn_step(c, st, err);
        return r < 0 ? r : 0;
}

/* Readiness: one real read of the schema, on a connection as any request
 * reads. */
static int sqlite_ping(Storage *storage, CoreError *err) {
        return sql_pool_read(sqlite_storage(storage)->pool, ping_read, NULL, err);
}

/* Entitlements ---------------------------------------------------------- */

int sqlite_entitlement_from_row(sqlite3_stmt *st, void *ret, CoreError *err) {
        _cleanup_(entitlement_done) Entitlement e = ENTITLEMENT_INIT;
        License *l = &e.license;
        const char *key = (const char *) sqlite3_column_text(st, 0);
        int r;

        if (!key || strlen(key) >= sizeof(e.key))
                return core_error_set(err, EBADMSG, "database: an entitlement has a bad key");
        strcpy(e.key, key);
        r = column_dup(st, 1, &l->product);
        if (r >= 0)
                r = column_dup(st, 2, &l->licensee);
        if (r >= 0)
                r = column_dup(st, 11, &l->server_url);
        if (r < 0)
                return r;
        l->type = license_type_from_string((const char *) sqlite3_column_text(st, 3));
        l->not_before = sqlite3_column_int64(st, 4);
        l->not_after = sqlite3_column_int64(st, 5);
        l->maintenance_until = sqlite3_column_int64(st, 6);
        l->validation_interval = sqlite3_column_int64(st, 9);
        l->grace_period = sqlite3_column_int64(st, 10);
        l->revision = (uint32_t) sqlite3_column_int64(st, 14);
        e.seats = (uint32_t) sqlite3_column_int64(st, 12);
        e.revoked = sqlite3_column_int64(st, 13) != 0;
        e.created = sqlite3_column_int64(st, 15);
        e.updated = sqlite3_column_int64(st, 16);
        e.active = (uint32_t) sqlite3_column_int64(st, 17);
        e.trial_days = (uint32_t) sqlite3_column_int64(st, 18);
        e.deactivation_requires_maintenance = sqlite3_column_int64(st, 19) != 0;
        if (!l->product || !l->licensee || l->type < 0)
                return core_error_set(err, EBADMSG,
                                      "database: entitlement %s has a bad product, licensee or type", key);
        r = storage_features_from_json(l, (const char *) sqlite3_column_text(st, 7),
                                       (const char *) sqlite3_column_text(st, 8), err);
        if (r < 0) {
                core_error_prefix(err, "database: entitlement %s: ", key);
                return r;
        }
        *(Entitlement *) ret = e;
        e = (Entitlement) ENTITLEMENT_INIT;
        return 0;
}

/* STORAGE_OK, STORAGE_UNKNOWN_KEY or negative errno. */
static int entitlement_read(SqlConn *c, const char *key, Entitlement *ret, CoreError *err) {
        int r;

        r = read_row(c, SQL_ENTITLEMENT_GET, key, sqlite_entitlement_from_row, ret, err);
        if (r == 0)
                return ANSWER(err, STORAGE_UNKNOWN_KEY, "the license key %s is not known to this server", key);
        return r < 0 ? r : STORAGE_OK;
}

int sqlite_entitlement_exists(SqlConn *c, const char *key, CoreError *err) {
        _cleanup_sql_stmt_ sqlite3_stmt *st = NULL;
        int r;

        r = sql_conn_stmt(c, SQL_ENTITLEMENT_EXISTS, &st, err, "t", key);
        if (r >= 0)
                r = sql_conn_step(c, st, err);
        if (r == 0)
                return core_error_set(err, ENOENT, "the license key %s is not known to this server", key);
        return r < 0 ? r : 0;
}

typedef struct EntitlementGet {
        const char *key;
        Entitlement e;
} EntitlementGet;

static int entitlement_get_read(SqlConn *c, void *data, CoreError *err) {
        EntitlementGet *g = data;
        int r;

        r = entitlement_read(c, g->key, &g->e, err);
        /* The vendor's verbs only report it: a failure like any other. */
        return r == STORAGE_UNKNOWN_KEY ? -ENOENT : r;
}

static int sqlite_entitlement_get(Storage *storage, const char *key, Entitlement *ret, CoreError *err) {
        EntitlementGet g = {.key = key, .e = ENTITLEMENT_INIT};
        int r;

        r = sql_pool_read(sqlite_storage(storage)->pool, entitlement_get_read, &g, err);
        if (r < 0) {
                entitlement_done(&g.e);
                return r;
        }
        *ret = g.e;
        return 0;
}

/* Activations ------------------------------------------------------------ */

static int activation_from_row(sqlite3_stmt *st, void *ret, CoreError *err) {
        _cleanup_(activation_done) Activation a = {};
        const char *key = (const char *) sqlite3_column_text(st, 1);
        int r;

        a.id = sqlite3_column_int64(st, 0);
        snprintf(a.key, sizeof(a.key), "%s", key ?: "");
        r = column_dup(st, 2, &a.license_id);
        if (r >= 0)
                r = column_dup(st, 3, &a.machine_id);
        if (r >= 0)
                r = column_dup(st, 4, &a.device_key);
        if (r >= 0)
                r = column_dup(st, 5, &a.hostname);
        if (r >= 0)
                r = column_dup(st, 6, &a.nonce);
        if (r < 0)
                return r;
        a.revision = (uint32_t) sqlite3_column_int64(st, 7);
        a.activated = sqlite3_column_int64(st, 8);
        a.last_seen = sqlite3_column_int64(st, 9);
        a.released = sqlite3_column_int64(st, 10);
        *(Activation *) ret = a;
        a = (Activation){};
        return 0;
}

/* STORAGE_OK, STORAGE_UNKNOWN_LICENSE or negative errno. */
static int activation_read(SqlConn *c, const char *license_id, Activation *ret, CoreError *err) {
        int r;

        r = read_row(c, SQL_ACTIVATION_GET, license_id, activation_from_row, ret, err);
        if (r == 0)
                return ANSWER(err, STORAGE_UNKNOWN_LICENSE, "no license %s was activated on this server",
                              license_id);
        return r < 0 ? r : STORAGE_OK;
}

typedef struct ActivationGet {
        const char *license_id;
        Activation a;
} ActivationGet;

static int activation_get_read(SqlConn *c, void *data, CoreError *err) {
        ActivationGet *g = data;
        return activation_read(c, g->license_id, &g->a, err);
}

static int sqlite_activation_get(Storage *storage, const char *license_id, Activation *ret, CoreError *err) {
        ActivationGet g = {.license_id = license_id};
        int r;

        r = sql_pool_read(sqlite_storage(storage)->pool, activation_get_read, &g, err);
        if (r != STORAGE_OK) {
                activation_done(&g.a);
                return r;
        }
        *ret = g.a;
        return STORAGE_OK;
}

typedef struct ActivationList {
        const char *key;
        void *list;
        size_t n;
} ActivationList;

static int activation_list_read(SqlConn *c, void *data, CoreError *err) {
        ActivationList *l = data;
        return collect_rows(c, SQL_ACTIVATION_LIST, l->key, sizeof(Activation), activation_from_row, &l->list,
                            &l->n, err);
}

static int sqlite_activation_list(Storage *storage, const char *key, Activation **ret, size_t *ret_n,
                                  CoreError *err) {
        ActivationList l = {.key = key};
        int r;

        r = sql_pool_read(sqlite_storage(storage)->pool, activation_list_read, &l, err);
        if (r < 0) {
                activation_array_free(l.list, l.n);
                return r;
        }
        *ret = l.list;
        *ret_n = l.n;
        return 0;
}

/* A write that reads back an entitlement and an activation (activation,
 * validation): what the caller gets on STORAGE_OK. */
typedef struct SeatWrite {
        const void *claim;
        Entitlement e;
        Activation a;
} SeatWrite;

#define SEAT_WRITE_INIT(c) {.claim = (c), .e = ENTITLEMENT_INIT}

static void seat_write_done(SeatWrite *w) {
        entitlement_done(&w->e);
        activation_done(&w->a);
}

/* The seat logic: STORAGE_OK with the seat taken, another StorageResult
 * before anything is written, or negative errno. */
static int activate_seat(SqlConn *c, const ActivationClaim *claim, Entitlement *e, CoreError *err) {
        _cleanup_sql_stmt_ sqlite3_stmt *st = NULL;
        bool has_seat = false;
        int64_t id = 0;
        int r;

        r = entitlement_read(c, claim->key, e, err);
        if (r != STORAGE_OK)
                return r;
        if (e->trial_days > 0 && !claim->trial)
                return storage_not_a_key(claim->key, err);
        if (!streq(e->license.product, claim->product))
                return ANSWER(err, STORAGE_WRONG_PRODUCT, "the license key is for %s, not for %s",
                              e->license.product, claim->product);
        if (e->revoked)
                return ANSWER(err, STORAGE_REVOKED, "the license key has been revoked by the vendor");

        r = sql_conn_stmt(c, SQL_ACTIVATION_OF_MACHINE, &st, err, "ttt", claim->key, claim->machine_id,
                          claim->device_key);
        if (r >= 0)
                r = sql_conn_step(c, st, err);
        if (r < 0)
                return r;
        if (r > 0) {
                id = sqlite3_column_int64(st, 0);
                has_seat = sqlite3_column_int64(st, 1) == TIME_UNSET;
        }
        sql_stmt_resetp(&st);
        if (claim->trial) {
                r = sqlite_trial_check(c, claim, err);
                if (r != STORAGE_OK)
                        return r;
        }
        if (!has_seat && e->active >= e->seats)
                return ANSWER(err, STORAGE_NO_SEAT,
                              "seat limit reached: %" PRIu32 " of %" PRIu32 " machines are active; "
                              "deactivate one or ask the vendor",
                              e->active, e->seats);
        /* The triggers of migration 2 count the seat in the entitlement. */
        if (id > 0)
                r = EXEC(c, SQL_ACTIVATION_RENEW, err, "ttiiii", claim->hostname, claim->nonce,
                         (int64_t) e->license.revision, claim->now, claim->now, id);
        else
                r = EXEC(c, SQL_ACTIVATION_INSERT, err, "ttttttiii", claim->key, claim->license_id,
                         claim->machine_id, claim->device_key, claim->hostname, claim->nonce,
                         (int64_t) e->license.revision, claim->now, claim->now);
        if (r >= 0 && claim->trial)
                r = EXEC(c, SQL_TRIAL_INSERT, err, "tttit", claim->product, claim->machine_id, claim->license_id,
                         claim->now, claim->hardware_id);
        if (r < 0)
                return r;
        if (!has_seat)
                e->active++;
        return STORAGE_OK;
}

static int activate_write(SqlConn *c, void *data, CoreError *err) {
        SeatWrite *w = data;
        const ActivationClaim *claim = w->claim;
        int r;

        r = activate_seat(c, claim, &w->e, err);
        if (r == STORAGE_OK) {
                r = activation_read(c, claim->license_id, &w->a, err);
                /* Written a moment ago in this transaction: missing now means
                 * a broken database, not an answer. */
                if (r == STORAGE_UNKNOWN_LICENSE)
                        r = -ENOENT;
        }
        return r;
}

static int sqlite_activate(Storage *storage, const ActivationClaim *c, Entitlement *ret_e, Activation *ret_a,
                           CoreError *err) {
        _cleanup_(seat_write_done) SeatWrite w = SEAT_WRITE_INIT(c);
        int r;

        r = sql_pool_write(sqlite_storage(storage)->pool, activate_write, &w, err);
        if (r == STORAGE_OK || r == STORAGE_NO_SEAT) {
                *ret_e = w.e;
                w.e = (Entitlement) ENTITLEMENT_INIT;
        }
        if (r != STORAGE_OK)
                return r;
        *ret_a = w.a;
        w.a = (Activation){};
        return STORAGE_OK;
}

/* The checks of a validation, before anything is written: STORAGE_OK or
 * the answer. */
static int validation_checks(const ValidationClaim *c, const Activation *a, const Entitlement *e,
                             CoreError *err) {
        if (!streq(a->machine_id, c->machine_id) || !streq(a->device_key, c->device_key))
                return ANSWER(err, STORAGE_WRONG_MACHINE, "the license %s is bound to another machine",
                              a->license_id);
        if (!streq(e->license.product, c->product))
                return ANSWER(err, STORAGE_WRONG_PRODUCT, "the license %s is for %s, not for %s",
                              a->license_id, e->license.product, c->product);
        return STORAGE_OK;
}

static int validate_write(SqlConn *c, void *data, CoreError *err) {
        SeatWrite *w = data;
        const ValidationClaim *claim = w->claim;
        int r;

        r = activation_read(c, claim->license_id, &w->a, err);
        if (r == STORAGE_OK) {
                r = entitlement_read(c, w->a.key, &w->e, err);
                /* An activation names an existing key (a foreign key). */
                if (r == STORAGE_UNKNOWN_KEY)
                        r = -ENOENT;
        }
        if (r == STORAGE_OK)
                r = validation_checks(claim, &w->a, &w->e, err);
        if (r != STORAGE_OK) /* an answer or a failure: nothing written */
                return r;
        r = EXEC(c, SQL_ACTIVATION_SEEN, err, "iii",
                 (int64_t) storage_revision_after_validation(&w->e, &w->a, claim->revision), claim->now,
                 w->a.id);
        return r < 0 ? r : STORAGE_OK;
}

static int sqlite_validate(Storage *storage, const ValidationClaim *c, Activation *ret_a, Entitlement *ret_e,
                           CoreError *err) {
        _cleanup_(seat_write_done) SeatWrite w = SEAT_WRITE_INIT(c);
        int r;

        r = sql_pool_write(sqlite_storage(storage)->pool, validate_write, &w, err);
        if (r != STORAGE_OK)
                return r;
        *ret_a = w.a;
        w.a = (Activation){};
        *ret_e = w.e;
        w.e = (Entitlement) ENTITLEMENT_INIT;
        return STORAGE_OK;
}

static int activation_seen_write(SqlConn *c, void *data, CoreError *err) {
        const ActivationChange *w = data;
        int r = EXEC(c, SQL_ACTIVATION_SEEN, err, "iii", w->revision, w->now, w->id);
        return r < 0 ? r : 0;
}

static int sqlite_activation_seen(Storage *storage, int64_t id, uint32_t revision, int64_t now,
                                  CoreError *err) {
        return sql_pool_write(sqlite_storage(storage)->pool, activation_seen_write,
                              &(ActivationChange){.id = id, .revision = revision, .now = now}, err);
}

static int activation_release_write(SqlConn *c, void *data, CoreError *err) {
        const ActivationChange *w = data;
        int r;

        r = EXEC(c, SQL_NONCE_USE, err, "ti", w->nonce, w->now);
        if (r == -EEXIST)
                return ANSWER(err, STORAGE_PROOF_USED, "this deactivation proof was used before");
        if (r >= 0)
                r = EXEC(c, SQL_ACTIVATION_RELEASE, err, "ii", w->now, w->id);
        return r < 0 ? r : STORAGE_OK;
}

static int sqlite_activation_release(Storage *storage, int64_t id, const char *proof_nonce, int64_t now,
                                     CoreError *err) {
        return sql_pool_write(sqlite_storage(storage)->pool, activation_release_write,
                              &(ActivationChange){.id = id, .nonce = proof_nonce, .now = now}, err);
}

int sqlite_release_machine_write(SqlConn *c, void *data, CoreError *err) {
        ActivationChange *w = data;
        int r;

        r = EXEC(c, SQL_RELEASE_MACHINE, err, "itt", w->now, w->key, w->machine_id);
        if (r == 0) {
                r = sqlite_entitlement_exists(c, w->key, err);
                if (r >= 0)
                        r = core_error_set(err, ENOENT, "machine %s holds no seat of %s", w->machine_id, w->key);
        }
        if (r < 0)
                return r;
        w->n = (unsigned) r;
        return 0;
}

static int sqlite_release_machine(Storage *storage, const char *key, const char *machine_id, int64_t now,
                                  unsigned *ret_n, CoreError *err) {
        ActivationChange w = {.key = key, .machine_id = machine_id, .now = now};
        int r;

        r = sql_pool_write(sqlite_storage(storage)->pool, sqlite_release_machine_write, &w, err);
        if (r < 0)
                return r;
        *ret_n = w.n;
        return 0;
}

const StorageBackend storage_backend_sqlite = {
        .name = "sqlite",
        .open = sqlite_open,
        .close = sqlite_close,
        .ping = sqlite_ping,
        .entitlement_create = sqlite_entitlement_create,
        .entitlement_get = sqlite_entitlement_get,
        .entitlement_list = sqlite_entitlement_list,
        .entitlement_upgrade = sqlite_entitlement_upgrade,
        .entitlement_revoke = sqlite_entitlement_revoke,
        .activate = sqlite_activate,
        .activation_get = sqlite_activation_get,
        .activation_list = sqlite_activation_list,
        .validate = sqlite_validate,
        .activation_seen = sqlite_activation_seen,
        .activation_release = sqlite_activation_release,
        .release_machine = sqlite_release_machine,
        .portal_release = sqlite_portal_release,
        .portal_releases = sqlite_portal_releases,
        .trial_offer = sqlite_trial_offer,
        .trial_reset = sqlite_trial_reset,
        .entitlement_query = sqlite_entitlement_query,
        .product_list = sqlite_product_list,
        .token_create = sqlite_token_create,
        .token_list = sqlite_token_list,
        .token_revoke = sqlite_token_revoke,
        .token_use = sqlite_token_use,
};
